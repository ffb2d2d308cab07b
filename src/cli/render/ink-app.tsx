// Mounts the Ink dashboard: finished lines in <Static> above the live frame,
// `q` and Ctrl-C forwarded to the stop logic (raw mode only where stdin is a TTY;
// otherwise the terminal's own SIGINT does it).
import { useEffect, useState, useSyncExternalStore } from "react";
import { Static, Text, render, useInput, useStdin, useStdout, type Instance } from "ink";
import { Dashboard } from "./dashboard.js";
import type { FinishedLine } from "./state.js";
import type { DashboardStore } from "./store.js";

interface AppProps {
  store: DashboardStore;
  onStop(): void;
  onInterrupt(): void;
}

const lineColor = (tone: FinishedLine["tone"]) =>
  tone === "good" ? "green" : tone === "warning" ? "yellow" : tone === "error" ? "red" : undefined;

function useTerminalSize() {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return size;
}

function Keys({ onStop, onInterrupt }: Omit<AppProps, "store">) {
  useInput((input, key) => {
    if (key.ctrl && input === "c") return onInterrupt();
    // Keys pressed while a step blocks the event loop arrive together ("\x03\x03", "qq"): act on each.
    for (const ch of input) {
      if (ch === "\u0003") onInterrupt();
      else if (ch === "q" || ch === "Q") onStop();
    }
  });
  return null;
}

export function App({ store, onStop, onInterrupt }: AppProps) {
  useSyncExternalStore(store.subscribe, store.getVersion);
  const { isRawModeSupported } = useStdin();
  const { columns, rows } = useTerminalSize();
  const state = store.state;
  return (
    <>
      {/* A fresh array each frame: <Static> memoises on the array's identity. */}
      <Static items={state.finished.slice()}>
        {(line) => (
          <Text key={line.key} color={lineColor(line.tone)} wrap="truncate-end">
            {line.text}
          </Text>
        )}
      </Static>
      <Dashboard state={state} columns={columns} rows={rows} />
      {isRawModeSupported && <Keys onStop={onStop} onInterrupt={onInterrupt} />}
    </>
  );
}

export function mountDashboard(
  props: AppProps,
  io: { stdout: NodeJS.WriteStream; stdin: NodeJS.ReadStream; fps: number; patchConsole: boolean },
): Instance {
  return render(<App {...props} />, {
    stdout: io.stdout,
    stdin: io.stdin,
    exitOnCtrlC: false,
    maxFps: io.fps,
    patchConsole: io.patchConsole,
    onRender: () => props.store.frameDrawn(),
  });
}
