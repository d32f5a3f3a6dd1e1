// Electron entry point: everything lives in the thin bootstrap below; the core is plain Node.
import './electron/bootstrap';
