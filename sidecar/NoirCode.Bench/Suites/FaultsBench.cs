using NoirCode.Bench.Infrastructure;

namespace NoirCode.Bench.Suites;

public static class FaultsBench
{
    public static void Run(BenchContext ctx) => throw new NotImplementedException();
}
