/**
 * The download progress bar: bytes received, total when known, and rate. Drawn with
 * cli-progress on stderr, and only when stderr is a terminal, so logs and --json stay clean.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';

/** cli-progress, loaded when a bar is first drawn: most runs download nothing. */
const loadCliProgress = () => createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;

/** How far a download is; download.ts reports it, the progress bar draws it. */
export interface DownloadProgress {
  url: string;
  received: number;
  /** From Content-Length or the file size; undefined when the server does not say. */
  total?: number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export interface ProgressDisplay {
  onProgress: (p: DownloadProgress) => void;
  /** Finishes the bar line; call once, whether the download succeeded or not. */
  stop: () => void;
}

/** A bar for one download, or undefined when `stream` is not a terminal. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressDisplay | undefined {
  if (!stream.isTTY) return undefined;
  let bar: cliProgressModule.SingleBar | undefined;
  const started = performance.now();
  const payload = (p: DownloadProgress) => {
    const seconds = Math.max((performance.now() - started) / 1000, 0.001);
    return {
      label,
      bytes: formatBytes(p.received),
      totalBytes: p.total === undefined ? '?' : formatBytes(p.total),
      rate: `${formatBytes(Math.round(p.received / seconds))}/s`,
    };
  };
  return {
    onProgress(p) {
      if (!bar) {
        const known = p.total !== undefined && p.total > 0;
        const cliProgress = loadCliProgress();
        bar = new cliProgress.SingleBar(
          {
            stream,
            hideCursor: true,
            barsize: 24,
            format: known
              ? '    {label} [{bar}] {percentage}% {bytes}/{totalBytes} {rate}'
              : '    {label} {bytes} {rate}',
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(known ? p.total! : 1, 0, payload(p));
      }
      bar.update(p.total ? p.received : 0, payload(p));
    },
    stop() {
      bar?.stop();
    },
  };
}
