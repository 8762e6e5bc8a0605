using System.CommandLine;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;

namespace NoirCode.Cli.Commands;

/// <summary>Options several commands share, declared once so they read the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string> Model(string description = "Hugging Face model folder (config.json, *.safetensors, tokenizer.json)") =>
        new("--model") { Description = description, Required = true };

    public static Option<string?> Split() =>
        new("--split") { Description = "client blocks as K,J: K encoder blocks, J decoder blocks (default 1,4, clipped for small models)" };

    public static Option<bool> Json() => new("--json") { Description = "print a JSON object on stdout" };

    public static SplitSpec ParseSplit(string? text) => text == null ? SplitSpec.Default : SplitSpec.Parse(text);

    public static IProgressSink Progress() => new StderrProgress();
}
