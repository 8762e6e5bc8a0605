namespace NoirCode.Bench.Infrastructure;

/// <summary>Options some suites take, and whether a reliability suite found a failure (the exit code).</summary>
public static class BenchArgs
{
    public static int? Count { get; set; }
    public static double? Minutes { get; set; }
    /// <summary>fuzz-grpc: only these cases (--cases a,b), to find which one misbehaves.</summary>
    public static IReadOnlyCollection<string>? Cases { get; set; }
    /// <summary>quality: only these modes (--modes local,default), to compare two models on one mode at a larger --count.</summary>
    public static IReadOnlyCollection<string>? Modes { get; set; }
    /// <summary>fuzz-grpc: how long a client waits for a case before giving up (--case-timeout S). A short limit makes
    /// the client abandon streams the endpoint is still working on, as a starved machine does.</summary>
    public static double? CaseTimeoutSeconds { get; set; }
    /// <summary>fairness: another build's noir.dll to measure first, as "before" (--baseline-noir DLL).</summary>
    public static string? BaselineNoir { get; set; }
    public static bool Failed { get; set; }
}
