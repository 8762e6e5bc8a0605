using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Attack.Report;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Training;
using NoirCode.Core.Util;
using NoirCode.Endpoint;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.STuning.LabelProtection;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Cli.Commands;

/// <summary>
/// <c>noir attack stuning-utility</c>: what a label protection costs. For each protection, the same STuning run
/// (same keys, data, steps and seed) through the real tuner and a fresh real endpoint, then the next-token loss
/// on held-out code through the tuned client and the tenant's tuned middle. Adds <c>stuning_utility</c> to a report.
/// </summary>
public static class StuningUtilityCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("the public model (whole model folder)");
        var keysDir = new Option<string>("--keys") { Description = "privacy keys to tune under", Required = true };
        var data = new Option<string>("--data") { Description = "folder of .py files to tune on", Required = true };
        var heldout = new Option<string>("--heldout") { Description = "folder of .py files to measure the loss on (not tuned on)", Required = true };
        var protections = new Option<string>("--protections") { Description = "semicolon-separated label protections: none, default, keep=K,noise=S", DefaultValueFactory = _ => "none;default" };
        var steps = new Option<int>("--steps") { Description = "tuning steps (equal for every protection)", DefaultValueFactory = _ => 100 };
        var batch = new Option<int>("--batch") { Description = "samples per step", DefaultValueFactory = _ => 2 };
        var seq = new Option<int>("--seq") { Description = "tokens per sample", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "client learning rate (noir tune's default)", DefaultValueFactory = _ => 5e-4 };
        var windows = new Option<int>("--windows") { Description = "held-out windows (at most 64: the endpoint's limit of samples in flight)", DefaultValueFactory = _ => 48 };
        var setting = new Option<string>("--setting") { Description = "the report setting these figures belong to", DefaultValueFactory = _ => "demo" };
        var report = new Option<string?>("--report") { Description = "a privacy report (.json) to add stuning_utility to" };
        var split = CommonOptions.Split();
        var json = CommonOptions.Json();
        var cmd = new Command("stuning-utility", "Held-out loss after equal STuning runs with and without label protection")
            { model, keysDir, data, heldout, protections, steps, batch, seq, lr, windows, setting, report, split, json };
        cmd.SetAction(async r =>
        {
            int w = r.GetValue(windows);
            if (w < 1 || w > 64) throw new ArgumentException("--windows must be between 1 and 64");
            var docs = Code(r.GetValue(data)!);
            var held = Code(r.GetValue(heldout)!);
            var list = r.GetValue(protections)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(LabelProtectionSettings.Parse).ToList();
            var progress = CommonOptions.Progress();
            var rows = new JsonArray();
            double? before = null;
            foreach (var protection in list)
            {
                string work = Directory.CreateTempSubdirectory("noir-stuning-utility-").FullName;
                try
                {
                    string client = Path.Combine(work, "client"), cloud = Path.Combine(work, "cloud");
                    ModelSplitter.Split(r.GetValue(model)!, client, cloud, CommonOptions.ParseSplit(r.GetValue(split)));
                    var config = ModelConfig.Load(client);
                    string fingerprint = ModelFingerprint.Of(client);
                    var keys = PrivacyKeys.Load(r.GetValue(keysDir)!, fingerprint);
                    var settings = new TuneSettings(r.GetValue(steps), r.GetValue(batch), r.GetValue(seq), r.GetValue(lr)) { LabelProtection = protection };
                    await using var host = await EndpointHost.StartAsync(new EndpointOptions { ShardFolder = cloud, Port = 0 }, logging: _ => { });
                    using var tuned = ClientModel.Load(client, untieHead: true);
                    keys.ApplyTo(tuned);
                    var options = new EndpointClientOptions { Endpoints = new[] { host.Address } };
                    var heldWindows = Windows(held, tuned, settings.SequenceLength, w);
                    if (before == null)
                        using (var probe = new RemoteTrainingSession(options, new EgressGuard(config.HiddenSize, WireDtype.Float32), fingerprint, config.HiddenSize))
                            before = HeldOut(tuned, probe, heldWindows, keys);
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    List<double> losses;
                    using (var remote = new RemoteTrainingSession(options, new EgressGuard(config.HiddenSize, WireDtype.Float32), fingerprint, config.HiddenSize))
                        losses = new SplitFineTuner(tuned, keys, remote, Path.Combine(work, "tuned")).Run(docs, settings, progress, client);
                    double seconds = clock.Elapsed.TotalSeconds;
                    double after;
                    using (var eval = new RemoteTrainingSession(options, new EgressGuard(config.HiddenSize, WireDtype.Float32), fingerprint, config.HiddenSize))
                        after = HeldOut(tuned, eval, heldWindows, keys);
                    var row = new JsonObject
                    {
                        ["defence"] = protection.Name, ["heldout_loss"] = Math.Round(after, 4),
                        ["last_tuning_loss"] = losses.Count == 0 ? null : losses.TakeLast(10).Average() is double a ? Math.Round(a, 4) : null,
                        ["tuning_seconds"] = Math.Round(seconds, 1),
                    };
                    rows.Add(row);
                    progress.Report("label-protection utility", rows.Count, list.Count, $"{row["defence"]}: held-out loss {after:F3}");
                }
                finally { try { Directory.Delete(work, recursive: true); } catch (IOException) { } }
            }
            var o = new JsonObject
            {
                ["heldout_loss_untuned"] = before is double b ? Math.Round(b, 4) : null, ["steps"] = r.GetValue(steps), ["batch"] = r.GetValue(batch),
                ["seq"] = r.GetValue(seq), ["learning_rate"] = r.GetValue(lr), ["windows"] = w, ["by_defence"] = rows,
            };
            if (r.GetValue(report) is { } path) StuningReport.MergeUtility(path, r.GetValue(setting)!, o);
            if (r.GetValue(json)) CliJson.Print(o); else Console.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }

    static List<string> Code(string folder)
    {
        if (!Directory.Exists(folder)) throw new IOException($"folder {folder} does not exist");
        var docs = Directory.EnumerateFiles(folder, "*.py", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(File.ReadAllText).Where(t => t.Length > 0).ToList();
        return docs.Count > 0 ? docs : throw new ArgumentException($"no .py files in {folder}");
    }

    /// <summary>Held-out windows (plain left-to-right code, no FIM), drawn with a fixed seed: the same for every protection.</summary>
    static List<(long[] Input, long[] Target)> Windows(List<string> docs, ClientModel client, int seq, int count)
    {
        var sampler = new FimSampler(docs, client.Tokenizer, seq);
        var rng = new Random(20261129);
        return Enumerable.Range(0, count).Select(_ => sampler.Sample(rng, allowFim: false)).ToList();
    }

    /// <summary>Mean next-token loss of the client and the tenant's middle on the windows (forward passes only).</summary>
    static double HeldOut(ClientModel client, RemoteTrainingSession remote, List<(long[] Input, long[] Target)> windows, PrivacyKeys keys)
    {
        double total = 0; long count = 0;
        var perm = keys.Permutation;
        using var _ = no_grad();
        for (int i = 0; i < windows.Count; i++)
        {
            using var scope = NewDisposeScope();
            var (input, target) = windows[i];
            var ids = tensor(input.Select(t => (long)perm.ToIndex((int)t)).ToArray()).unsqueeze(0);
            var labels = tensor(target.Select(t => t == FimSampler.IgnoreIndex ? t : perm.ToIndex((int)t)).ToArray());
            var positions = arange(input.Length);
            var middle = remote.Forward(900_000_000UL + (ulong)i, client.FirstBlocks(ids, positions, cache: null));
            var logits = client.LastBlocksAndHead(middle, positions, cache: null, lastOnly: false)[0];
            long n = target.Count(t => t != FimSampler.IgnoreIndex);
            total += F.cross_entropy(logits, labels, ignore_index: FimSampler.IgnoreIndex, reduction: nn.Reduction.Sum).item<float>();
            count += n;
        }
        return total / Math.Max(1, count);
    }
}
