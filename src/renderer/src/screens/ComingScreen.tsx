import { Empty } from '../components/States';

/** A capability whose screens arrive with it. */
export function ComingScreen({ title, text }: { title: string; text: string }) {
  return (
    <section aria-labelledby="coming-title">
      <h1 id="coming-title">{title}</h1>
      <Empty title="Cette fonction arrive dans une prochaine version.">
        <p>{text}</p>
      </Empty>
    </section>
  );
}
