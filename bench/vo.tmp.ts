import { viewerBench } from './imaging-viewer';
void viewerBench().then((r) => console.log(JSON.stringify(r, null, 1)), (e) => { console.error(e); process.exit(1); });
