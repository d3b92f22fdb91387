// berth info [--format TEMPLATE]: the daemon's /info answer (docker's system.Info) with docker's
// ClientInfo beside it, for templates ({{.ServerVersion}}, {{.ClientInfo.Context}}, {{json .}});
// without a format, the part of docker's text that berth has.
import { VERSION } from '../../core/version.ts';
import { parseArgs } from '../args.ts';
import { binarySize } from '../format.ts';
import type { Context } from '../context.ts';
import { compile, goStruct, run, TemplateError } from '../template.ts';

export async function info(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [{ name: 'format', short: 'f', type: 'string' }, { name: 'help', type: 'bool' }]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth info [OPTIONS]\n\nDisplay system-wide information\n\nOptions:\n  -f, --format string   Format output using a custom template\n');
    return 0;
  }
  const format = flags.get('format') as string | undefined;
  const t = format ? parseFormat(format) : undefined;
  const { info: serverInfo, version } = await import('../../api/system.ts');
  const { API_VERSION } = await import('../../api/http.ts');
  const s = serverInfo(ctx.engine()) as Record<string, unknown> & ReturnType<typeof serverInfo>;
  const v = version();
  const clientInfo = goStruct('*system.clientInfo', {
    Debug: false, Version: VERSION, DefaultAPIVersion: API_VERSION, GitCommit: '', GoVersion: v.GoVersion, Os: v.Os, Arch: v.Arch, BuildTime: '', Context: 'default',
    Plugins: [], Warnings: null,
  });
  if (!t) {
    ctx.out(text(s, clientInfo));
    return 0;
  }
  try {
    // docker embeds system.Info, so its fields are the top level, ClientInfo beside them.
    ctx.out(run(t, goStruct('system.dockerInfo', { ...s, ClientInfo: clientInfo })) + '\n');
  } catch (err) {
    if (err instanceof TemplateError) ctx.out(`${err.partial}\n`);
    throw err;
  }
  return 0;
}

function parseFormat(format: string) {
  try {
    return compile(format === 'json' ? '{{json .}}' : format);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`, err.phase, 64);
    throw err;
  }
}

function text(s: ReturnType<typeof import('../../api/system.ts').info>, c: { Version: string; Context: string; Debug: boolean }): string {
  return [
    'Client:', ` Version:    ${c.Version}`, ` Context:    ${c.Context}`, ` Debug Mode: ${c.Debug}`, '',
    'Server:', ` Containers: ${s.Containers}`, `  Running: ${s.ContainersRunning}`, `  Paused: ${s.ContainersPaused}`, `  Stopped: ${s.ContainersStopped}`,
    ` Images: ${s.Images}`, ` Server Version: ${s.ServerVersion}`, ` Storage Driver: ${s.Driver}`, ` Logging Driver: ${s.LoggingDriver}`,
    ` Cgroup Driver: ${s.CgroupDriver}`, ` Cgroup Version: ${s.CgroupVersion}`, ` Runtimes: ${Object.keys(s.Runtimes).join(' ')}`, ` Default Runtime: ${s.DefaultRuntime}`,
    ` Kernel Version: ${s.KernelVersion}`, ` Operating System: ${s.OperatingSystem}`, ` OSType: ${s.OSType}`, ` Architecture: ${s.Architecture}`,
    ` CPUs: ${s.NCPU}`, ` Total Memory: ${binarySize(s.MemTotal)}`, ` Name: ${s.Name}`, ` ID: ${s.ID}`, ` Docker Root Dir: ${s.DockerRootDir}`,
    ` Live Restore Enabled: ${s.LiveRestoreEnabled}`, '', '',
  ].join('\n');
}
