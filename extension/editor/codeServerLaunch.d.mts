export function codeServerLaunch(o: { entry: string; port: number; profileArgs: string[]; workspace: string; secure: boolean }):
  { args: string[]; env: Record<string, string>; settings: Record<string, unknown>; password?: string };
