// One project's editor: the stage, the toolbar and the side panel over the editor's state
// (src/editor/state.ts wires its parts; each part owns one concern).
import { Show } from "solid-js";
import { online, type Project } from "../api";
import type { Point } from "../points";
import { flagMarks } from "../track";
import { inoutText, trackRange, workRange } from "../editor/inout";
import { createEditor } from "../editor/state";
import { Toolbar } from "../editor/Toolbar";
import { boxesOn, frameSummary, markersOn, pointCounts, seekMarkers } from "../editor/view";
import "../editor/editor.css";
import { FrameStage } from "./FrameStage";
import { MattingDialog } from "./MattingDialog";
import { ObjectList } from "./ObjectList";
import { ResultsPanel } from "./ResultsPanel";
import { ShortcutsHelp } from "./ShortcutsHelp";
import { Transport } from "./Transport";

export interface EditorProps {
  project: Project;
  initialFrame: number;
  onFrame: (frame: number) => void;
  /** The frame a link to this project, followed while it is open, names. */
  frameAsked?: { frame: number } | null;
}

export function Editor(props: EditorProps) {
  const e = createEditor(props);
  const { frame, prompts, objects, results, saver, previews, track, playback, actions } = e;
  const seek = () => seekMarkers(prompts.points(), objects.colorOf);
  const unsaved = (oid: number, f: number, p: Point) => saver.isUnsaved(oid, f, p);
  return (
    <>
      <main class="editor-main" data-testid="editor" data-project-id={e.pid}>
        <Toolbar
          selected={objects.selectedObject()}
          objects={objects.list()}
          track={track.track()}
          canTrack={e.loaded() && seek().length > 0}
          canUndo={actions.canUndo()}
          canRedo={actions.canRedo()}
          canClear={actions.canClear()}
          maskVisible={e.maskVisible()}
          offline={!online()}
          unsaved={e.unsavedClicks()}
          diskFull={saver.diskFull()}
          objectWait={saver.objectWait()}
          onRetrySaves={() => void saver.retry()}
          trackStarting={track.starting()}
          trackRange={workRange(e.inout.range(), e.frameCount())}
          onTrack={() => {
            const r = trackRange(e.inout.range(), e.frameCount());
            void track.start(r.start, r.end);
          }}
          onCancelTrack={() => void track.cancel()}
          onUndo={actions.undo}
          onRedo={actions.redo}
          onClear={actions.clearFrame}
          onToggleMask={() => e.setMaskVisible(!e.maskVisible())}
          onPreview={() => void previews.refresh(frame())}
          onMatting={() => e.setMattingOpen(true)}
          onHelp={() => e.setHelpOpen(true)}
        />
        <FrameStage
          video={e.video()}
          frameIndex={frame()}
          mode={results.mode()}
          picture={e.frames.picture()}
          alphaImage={e.mattes.imageFor(e.frames.picture()?.index)}
          compose={e.resultCompose.options(e.frames.picture()?.index)}
          markers={markersOn(prompts.points(), frame(), objects.colorOf, objects.selected(), unsaved)}
          previewUrl={e.maskVisible() ? (previews.url(frame()) ?? track.overlay(frame())) : null}
          previewLoading={previews.busy(frame())}
          frameLoading={e.frames.loading()}
          editable={e.loaded() && !playback.playing()}
          badge={results.mode() !== "off" ? e.mattes.note() : null}
          summary={frameSummary(prompts.points(), frame(), unsaved)}
          nameOf={objects.nameOf}
          onPoint={actions.point}
          boxes={boxesOn(prompts.points(), frame(), objects.colorOf, objects.selected())}
          onBox={actions.box}
          onRemoveBox={actions.removeBox}
          onResize={e.setStageSize}
          view={e.view()}
          onView={e.setView}
        />
        <Transport
          frame={frame()}
          frameCount={e.frameCount()}
          fps={e.video().fps || 25}
          timecode={e.video().timecode}
          firstNumber={e.video().first_number}
          playing={playback.playing()}
          markers={seek()}
          range={results.shown() ?? null}
          inout={e.inout.range()}
          inoutText={inoutText(e.inout.range())}
          inoutSaid={e.inout.said()}
          onClearInOut={e.inout.clear}
          flags={flagMarks(track.track(), objects.nameOf)}
          onSeek={e.setFrame}
          onStep={(d) => e.setFrame(frame() + d)}
          onPlay={playback.toggle}
          gotoAsked={e.gotoAsked()}
        />
      </main>
      <aside class="panel right-panel" data-testid="side-panel" aria-label="Objects and results">
        <ObjectList
          objects={objects.list()}
          selectedId={objects.selected()}
          pointCounts={pointCounts(prompts.points())}
          onSelect={objects.select}
          onAdd={() => void actions.addObject()}
          onRename={(oid, name) => actions.updateObject(oid, { name }, name)}
          onColor={(oid, color, shown) => void actions.updateObject(oid, { color }, shown)}
          onDelete={(oid, shown) => void actions.deleteObject(oid, shown)}
        />
        <ResultsPanel
          jobs={e.jobs}
          objects={objects.list()}
          activeJobId={results.activeJobId()}
          mode={results.mode()}
          onActivate={results.activate}
          onMode={results.setMode}
          inout={e.inout.range()}
        />
      </aside>
      <Show when={e.mattingOpen()}>
        <MattingDialog
          project={props.project}
          objects={objects.list()}
          points={prompts.points()}
          inout={e.inout.range()}
          deleting={actions.deleting()}
          jobs={e.jobsAfterSaves}
          onClose={() => e.setMattingOpen(false)}
          onView={(jid) => {
            e.setMattingOpen(false);
            results.activate(jid);
          }}
        />
      </Show>
      <Show when={e.helpOpen()}>
        <ShortcutsHelp onClose={() => e.setHelpOpen(false)} />
      </Show>
    </>
  );
}
