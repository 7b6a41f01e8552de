/** The main area when no project is open. */
export function Welcome() {
  return (
    <main class="editor-main welcome" data-testid="welcome">
      <div class="welcome-card">
        <h1>Cut anything out of a video</h1>
        <ol>
          <li>Add a video, or a folder or zip of numbered images (EXR, DPX, PNG…), on the left (button or drag &amp; drop).</li>
          <li>Click on the object: left click adds, right click removes areas. The mask appears at once.</li>
          <li>Fix mistakes on any frame, then press <strong>Matting</strong> and download the result.</li>
        </ol>
        <p class="muted">
          Press <kbd>?</kbd> in the editor for keyboard shortcuts.
        </p>
      </div>
    </main>
  );
}

/** The main area when the URL names a project the server does not have (deleted, or a wrong
 * link): said plainly rather than a welcome card that looks as if nothing was asked for. */
export function MissingProject(props: { onBack: () => void }) {
  return (
    <main class="editor-main welcome" data-testid="project-missing">
      <div class="welcome-card" role="alert">
        <h1>This project no longer exists</h1>
        <p>It was deleted, or the link is wrong. Open another project on the left or add a video.</p>
        <p>
          <button class="btn" data-testid="project-missing-back" onClick={() => props.onBack()}>
            Back to the start page
          </button>
        </p>
      </div>
    </main>
  );
}
