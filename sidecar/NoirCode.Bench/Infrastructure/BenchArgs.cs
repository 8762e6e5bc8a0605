namespace NoirCode.Bench.Infrastructure;

/// <summary>Options some suites take, and whether a reliability suite found a failure (the exit code).</summary>
public static class BenchArgs
{
    public static int? Count { get; set; }
    public static double? Minutes { get; set; }
    public static bool Failed { get; set; }
}
