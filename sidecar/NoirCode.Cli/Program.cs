using System.CommandLine;
using NoirCode.Cli;
using NoirCode.Cli.Commands;

// noir: the command-line face of NoirCode. Results go to stdout (JSON with --json), progress and errors to stderr.
var root = new RootCommand("NoirCode: private code completion with a split open-source LLM (NOIR).")
{
    ModelCommands.Create(),
    GenerateCommand.Create(),
    ParityCommand.Create(),
    SplitCommand.Create(),
    KeygenCommand.Create(),
    PrivacyCommands.Create(),
    CloudCommands.Create(),
    EvalCommand.Create(),
    TuneCommand.Create(),
    LspCommand.Create(),
    AttackCommand.Create(),
};
// Exceptions reach CliErrors, which prints one clear line instead of System.CommandLine's stack trace.
return CliErrors.Run(() => root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
