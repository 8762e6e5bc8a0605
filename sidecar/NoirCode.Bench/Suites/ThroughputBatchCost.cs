using System.Diagnostics;
using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using static TorchSharp.torch;

namespace NoirCode.Bench.Suites;

/// <summary>
/// What one pass of the endpoint's model worker costs against the rows in its decode batch, in this process, for each
/// way a batch can attend (<see cref="DecodeAttention"/>): the cloud shard's middle, sessions in one
/// <see cref="KvPool"/> at lengths spread over 32–255 as in the load run (rolling back at 256), on one intra-op
/// thread as the worker runs a small model. The strategies take turns in short slices, so a shared machine's load
/// weighs on all alike. No gRPC, no load generator: only the model's work.
/// </summary>
static class ThroughputBatchCost
{
    public static readonly int[] Rows = { 1, 4, 16, 64 };

    /// <param name="Sparse">the batch is every other session of twice as many open ones (as when half the sessions
    /// have a step queued), rather than all the open sessions</param>
    /// <param name="CpuMsPerBatch">the process's CPU time per batch: on a shared machine, less noisy than the wall time</param>
    public sealed record Cell(DecodeAttention Strategy, int Rows, bool Sparse, double MsPerBatch, double CpuMsPerBatch, long Batches);

    public static IReadOnlyList<Cell> Measure(BenchContext ctx, TimeSpan perCell)
    {
        using var shard = CloudShard.Load(ctx.CloudShard);
        using var _ = no_grad();
        using var threads = Core.Util.IntraOpThreads.ForDecode(shard.Config, 1);
        var strategies = Enum.GetValues<DecodeAttention>();
        const int rounds = 6;
        var cells = new List<Cell>();
        var process = Process.GetCurrentProcess();
        foreach (bool sparse in new[] { false, true })
            foreach (int rows in Rows)
            {
                var time = new double[strategies.Length];
                var cpu = new double[strategies.Length];
                var batches = new long[strategies.Length];
                using var pool = shard.Middle.NewPool();
                var open = Enumerable.Range(0, sparse ? 2 * rows : rows).Select(_ => pool.Open(256)).ToArray();
                var caches = sparse ? open.Where((_, i) => i % 2 == 1).ToArray() : open;
                var adapters = new LoraAdapter?[rows];
                var random = new Random(rows);
                try
                {
                    foreach (var c in open)
                    {
                        int length = random.Next(32, 256);
                        using var prefix = randn(1, length, shard.Config.HiddenSize);
                        using var positions = arange(length);
                        shard.Middle.Forward(prefix, positions, c).Dispose();
                    }
                    using var step = randn(rows, 1, shard.Config.HiddenSize);
                    for (int round = 0; round < rounds + 1; round++) // round 0 warms up
                        for (int s = 0; s < strategies.Length; s++)
                        {
                            pool.Attention = strategies[s];
                            var slice = Stopwatch.StartNew();
                            var timed = new Stopwatch();
                            process.Refresh();
                            var cpuBefore = process.TotalProcessorTime;
                            long n = 0;
                            while (slice.Elapsed < perCell / rounds)
                            {
                                foreach (var c in caches) if (c.Length >= 256) c.Truncate(32);
                                timed.Start();
                                shard.Middle.ForwardDecodeBatch(step, caches.Select(c => c.Length).ToArray(), caches, adapters).Dispose();
                                timed.Stop();
                                n++;
                            }
                            process.Refresh();
                            if (round == 0) continue;
                            time[s] += timed.Elapsed.TotalMilliseconds;
                            cpu[s] += (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
                            batches[s] += n;
                        }
                }
                finally { foreach (var c in open) c.Dispose(); }
                for (int s = 0; s < strategies.Length; s++) cells.Add(new Cell(strategies[s], rows, sparse, time[s] / batches[s], cpu[s] / batches[s], batches[s]));
                Console.Error.WriteLine($"batch cost, {rows} rows{(sparse ? " of " + 2 * rows + " sessions" : "")}: " +
                    string.Join(", ", strategies.Select((st, s) => $"{st} {time[s] / batches[s]:F3} ms ({cpu[s] / batches[s]:F3} ms CPU)")));
            }
        return cells;
    }

    /// <summary>Least squares fit ms = fixed + per row × rows.</summary>
    public static (double Fixed, double PerRow) Fit(IEnumerable<Cell> cells)
    {
        var points = cells.ToArray();
        double mx = points.Average(c => (double)c.Rows), my = points.Average(c => c.MsPerBatch);
        double slope = points.Sum(c => (c.Rows - mx) * (c.MsPerBatch - my)) / points.Sum(c => (c.Rows - mx) * (c.Rows - mx));
        return (my - slope * mx, slope);
    }

    public static string Table(IReadOnlyList<Cell> cells, JsonObject figures)
    {
        var strategies = cells.Select(c => c.Strategy).Distinct().ToArray();
        var lines = new List<string>
        {
            "| rows in the batch | open sessions | " + string.Join(" | ", strategies.Select(s => $"{Name(s)}: ms per batch (CPU ms)")) + " | " + string.Join(" | ", strategies.Select(s => $"{Name(s)}: ms per row")) + " |",
            "| --- | --- |" + string.Concat(Enumerable.Repeat(" --- |", 2 * strategies.Length)),
        };
        foreach (bool sparse in new[] { false, true })
            foreach (int rows in Rows)
            {
                var at = strategies.Select(s => cells.First(c => c.Strategy == s && c.Rows == rows && c.Sparse == sparse)).ToArray();
                lines.Add($"| {rows} | {(sparse ? 2 * rows : rows)} | " + string.Join(" | ", at.Select(c => $"{c.MsPerBatch:F2} ({c.CpuMsPerBatch:F2})")) + " | " + string.Join(" | ", at.Select(c => $"{c.MsPerBatch / rows:F3}")) + " |");
                foreach (var c in at) figures[$"decode_batch_ms_{Key(c.Strategy)}_{rows}{(sparse ? "_of_" + 2 * rows : "")}"] = Math.Round(c.MsPerBatch, 3);
            }
        var fits = strategies.Select(s => (s, Fit(cells.Where(c => c.Strategy == s && !c.Sparse)))).ToArray();
        foreach (var (s, (f, p)) in fits)
        {
            figures[$"decode_batch_fixed_ms_{Key(s)}"] = Math.Round(f, 3);
            figures[$"decode_batch_ms_per_row_{Key(s)}"] = Math.Round(p, 4);
        }
        lines.Add("");
        lines.Add("Least-squares fit over the batches of all open sessions, ms per batch = fixed + per row × rows: " + string.Join("; ", fits.Select(x => $"{Name(x.s)} {x.Item2.Fixed:F2} + {x.Item2.PerRow:F3} × rows")) + ".");
        return string.Join("\n", lines);
    }

    static string Key(DecodeAttention s) => s switch { DecodeAttention.Gather => "gather", DecodeAttention.SlotRange => "slot_range", DecodeAttention.PerRow => "per_row", _ => "auto" };

    static string Name(DecodeAttention s) => s switch { DecodeAttention.Gather => "gather", DecodeAttention.SlotRange => "slot range", DecodeAttention.PerRow => "per row", _ => "auto" };
}
