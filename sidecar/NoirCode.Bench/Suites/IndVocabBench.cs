using System.Diagnostics;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Util;
using NoirCode.Privacy;
using NoirCode.Privacy.IndVocab;

namespace NoirCode.Bench.Suites;

/// <summary>INDVocab generation time for real vocabulary shapes (32k and 152k × 4096 in minutes on 2 cores).</summary>
public static class IndVocabBench
{
    public static void Run(BenchContext ctx)
    {
        var shapes = ctx.Quick ? new[] { (8_000, 1024) } : new[] { (32_000, 4096), (151_936, 4096) };
        var rows = new List<string>();
        var figures = new JsonObject();
        var load = new MachineLoad();
        foreach (var (vocab, dim) in shapes)
        {
            // Embedding-like values (σ = 0.02, as in 7B code models); the sampler's cost does not depend on them.
            var rng = new Random(1);
            var embedding = new float[(long)vocab * dim];
            for (long i = 0; i < embedding.LongLength; i++)
                embedding[i] = (float)(0.02 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
            GC.Collect();
            long before = Process.GetCurrentProcess().PeakWorkingSet64;
            var (table, stats) = IndVocabGenerator.Generate(embedding, vocab, dim, 13, CtrRandom.NewKey(), new StderrProgress());
            long peak = Process.GetCurrentProcess().PeakWorkingSet64;
            rows.Add($"| {vocab:N0} × {dim:N0} | {stats.Elapsed.TotalSeconds:F1} s | {stats.KeepRate:E2} | {stats.MeanL1:F1} | {peak / 1e9:F1} GB |");
            figures[$"indvocab_seconds_{vocab / 1000}k_{dim}"] = Math.Round(stats.Elapsed.TotalSeconds, 2);
            Console.WriteLine($"{vocab} x {dim}: {stats.Elapsed.TotalSeconds:F1} s, keep rate {stats.KeepRate:E2}, mean L1 {stats.MeanL1:F1}, peak RSS {peak / 1e9:F1} GB (before {before / 1e9:F1})");
            GC.KeepAlive(table);
        }
        string md = $"""
            ## 5a. INDVocab generation (ε = 13)

            Machine: {BenchReport.Machine()}. {load.Describe()} Command: {ctx.Command()} ({DateTime.UtcNow:yyyy-MM-dd}).
            Sorted-column / prefix-sum ARR sampler, O(m·|V|·log|V|), AES-CTR CSPRNG, all cores. Keep rate ≈ 1/|V| and
            mean L1 ≈ m·1.13σ, as the paper notes predict for σ = 0.02.

            | vocabulary × hidden | time | keep rate | mean L1 per token | peak memory |
            | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}
            """;
        BenchReport.Write(ctx.Repo, "indvocab", md, figures);
    }
}
