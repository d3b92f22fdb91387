// berth version [--format TEMPLATE]: docker's version template data ({{.Client.Version}},
// {{.Server.Version}}, {{json .}}); without a format, berth's one line.
import { VERSION } from '../../core/version.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { compile, goStruct, run, TemplateError } from '../template.ts';

export async function version(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [{ name: 'format', short: 'f', type: 'string' }, { name: 'help', type: 'bool' }]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth version [OPTIONS]\n\nShow the berth version information\n\nOptions:\n  -f, --format string   Format output using a custom template\n');
    return 0;
  }
  const format = flags.get('format') as string | undefined;
  if (!format) {
    ctx.out(`berth version ${VERSION}\n`);
    return 0;
  }
  let t;
  try {
    t = compile(format, 'version');
  } catch (err) {
    // docker: an unparsable format is status 64.
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`, err.phase, 64);
    throw err;
  }
  // The daemon's /version answer is the server part; loaded only when a format asks for it.
  const { API_VERSION } = await import('../../api/http.ts');
  const s = (await import('../../api/system.ts')).version();
  const client = goStruct('system.clientVersion', {
    Version: VERSION, ApiVersion: API_VERSION, DefaultAPIVersion: API_VERSION, GitCommit: '', GoVersion: s.GoVersion, Os: s.Os, Arch: s.Arch, BuildTime: '', Context: 'default',
  });
  // In docker's field order (types.Version), which {{json .}} keeps.
  const server = goStruct('*types.Version', {
    Platform: s.Platform, Components: s.Components, Version: s.Version, ApiVersion: s.ApiVersion, MinAPIVersion: s.MinAPIVersion, GitCommit: s.GitCommit,
    GoVersion: s.GoVersion, Os: s.Os, Arch: s.Arch, KernelVersion: s.KernelVersion, BuildTime: s.BuildTime,
  });
  try {
    ctx.out(run(t, goStruct('system.versionInfo', { Client: client, Server: server })) + '\n');
  } catch (err) {
    // What the template wrote before failing is printed, as docker flushes it.
    if (err instanceof TemplateError) ctx.out(`${err.partial}\n`);
    throw err;
  }
  return 0;
}
