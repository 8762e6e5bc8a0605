namespace NoirCode.Bench.Infrastructure;

/// <summary>Options some suites take, and whether a reliability suite found a failure (the exit code).</summary>
public static class BenchArgs
{
    public static int? Count { get; set; }
    public static double? Minutes { get; set; }
    /// <summary>fuzz-grpc: only these cases (--cases a,b), to find which one misbehaves.</summary>
    public static IReadOnlyCollection<string>? Cases { get; set; }
    public static bool Failed { get; set; }
}
