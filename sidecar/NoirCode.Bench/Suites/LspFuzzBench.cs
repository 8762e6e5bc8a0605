using NoirCode.Bench.Infrastructure;

namespace NoirCode.Bench.Suites;

public static class LspFuzzBench
{
    public static void Run(BenchContext ctx) => throw new NotImplementedException();
}
