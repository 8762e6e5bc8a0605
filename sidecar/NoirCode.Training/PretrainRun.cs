using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using NoirCode.Core.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Training;

/// <summary>
/// One pre-training run in a folder: the prepared corpus and tokenizer, the initial model, and checkpoints
/// (weights, AdamW state, progress) written every few minutes and at the end, so a run stops and resumes at any
/// time and picks up exactly where it left off (each step's data comes from a seed derived from its index).
/// </summary>
public sealed class PretrainRun
{
    public string Folder { get; }
    public string ModelFolder => Path.Combine(Folder, "model");
    string Checkpoint => Path.Combine(Folder, "checkpoint");
    string StateFile => Path.Combine(Checkpoint, "state.json");

    public PretrainRun(string folder) { Folder = folder; }

    /// <param name="FrozenBlocks">
    /// -1: everything trains. N ≥ 0: the token embedding (tied to the head) and the first N blocks stay fixed, so a
    /// continued model keeps the client encoder that privacy keys and measured attacks were made for.
    /// </param>
    /// <param name="FimRate">the share of fill-in-the-middle samples (<see cref="FimSampler.FimRate"/>)</param>
    /// <param name="RestOfLineShare">the share of those in the editor's shape (<see cref="FimSampler.RestOfLineShare"/>)</param>
    public sealed record Settings(int Steps, int Batch, int SequenceLength, double LearningRate, double MinutesThisSitting, int Seed, int CheckpointMinutes = 5,
        int FrozenBlocks = -1, double FimRate = 0.5, double RestOfLineShare = 0);

    public void Train(Settings s, IProgressSink progress)
    {
        torch.manual_seed(s.Seed);
        using var model = CausalLM.Load(File.Exists(Path.Combine(Checkpoint, "model.safetensors")) ? CheckpointModelFolder() : ModelFolder);
        var train = ReadDocs("train.txt");
        var heldOut = ReadDocs("heldout.txt");
        var sampler = new FimSampler(train, model.Tokenizer, s.SequenceLength, s.FimRate, s.RestOfLineShare);
        var heldOutSampler = new FimSampler(heldOut, model.Tokenizer, s.SequenceLength);
        if (s.FrozenBlocks >= 0)
            foreach (var (_, p) in model.NamedWeights().Where(w => IsFrozen(w.Name, s.FrozenBlocks))) p.requires_grad_(false);
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        var optimizer = new AdamW(parameters, s.LearningRate, beta1: 0.9, beta2: 0.95, weightDecay: 0.1);
        var state = File.Exists(StateFile) ? JsonNode.Parse(File.ReadAllText(StateFile))!.AsObject() : new JsonObject { ["step"] = 0, ["tokens"] = 0L, ["seconds"] = 0.0, ["history"] = new JsonArray() };
        // AdamW's state (safetensors inside, named so the weight loader skips it); an older checkpoint's moments start afresh.
        if (File.Exists(Path.Combine(Checkpoint, "adamw.bin"))) optimizer.Load(Path.Combine(Checkpoint, "adamw.bin"));
        int step = (int)state["step"]!;
        long tokens = (long)state["tokens"]!;
        double secondsBefore = (double)state["seconds"]!;
        var sitting = Stopwatch.StartNew();
        var sinceCheckpoint = Stopwatch.StartNew();
        double smoothed = double.NaN;
        Console.Error.WriteLine($"training from step {step} of {s.Steps} ({tokens:N0} tokens so far, {parameters.Sum(p => p.numel()):N0} of {model.parameters().Sum(p => p.numel()):N0} parameters)");
        while (step < s.Steps && sitting.Elapsed.TotalMinutes < s.MinutesThisSitting)
        {
            double lr = LearningRate(step, s);
            optimizer.LearningRate = lr;
            var rng = new Random(s.Seed * 1_000_003 + step);
            using (var scope = NewDisposeScope())
            {
                var (input, target) = Batch(sampler, rng, s.Batch, allowFim: true);
                var logits = model.Forward(input, arange(s.SequenceLength), cache: null, lastOnly: false);
                var loss = F.cross_entropy(logits.view(-1, logits.shape[^1]), target.view(-1), ignore_index: FimSampler.IgnoreIndex);
                optimizer.zero_grad();
                loss.backward();
                nn.utils.clip_grad_norm_(parameters, 1.0);
                optimizer.step();
                double value = loss.item<float>();
                smoothed = double.IsNaN(smoothed) ? value : 0.98 * smoothed + 0.02 * value;
            }
            step++;
            tokens += (long)s.Batch * s.SequenceLength;
            progress.Report("training", step, s.Steps, $"loss {smoothed:F3}, lr {lr:G2}");
            bool last = step >= s.Steps || sitting.Elapsed.TotalMinutes >= s.MinutesThisSitting;
            if (step % 250 == 0 || last)
            {
                double heldOutLoss = Evaluate(model, heldOutSampler, s);
                state["history"]!.AsArray().Add(new JsonObject { ["step"] = step, ["tokens"] = tokens, ["train_loss"] = Math.Round(smoothed, 4), ["heldout_loss"] = Math.Round(heldOutLoss, 4) });
                Console.Error.WriteLine($"\nstep {step}: train {smoothed:F3}, held-out {heldOutLoss:F3}");
            }
            if (sinceCheckpoint.Elapsed.TotalMinutes >= s.CheckpointMinutes || last)
            {
                state["step"] = step; state["tokens"] = tokens; state["seconds"] = secondsBefore + sitting.Elapsed.TotalSeconds;
                SaveCheckpoint(model, optimizer, state);
                sinceCheckpoint.Restart();
            }
        }
        progress.Done("training");
    }

    public static bool IsFrozen(string weightName, int frozenBlocks) =>
        weightName == ModelLayout.Embedding || Enumerable.Range(0, frozenBlocks).Any(b => weightName.StartsWith(ModelLayout.Layer(b, ""), StringComparison.Ordinal));

    static double LearningRate(int step, Settings s)
    {
        int warmup = Math.Min(200, s.Steps / 10);
        if (step < warmup) return s.LearningRate * (step + 1) / warmup;
        double progress = (double)(step - warmup) / Math.Max(1, s.Steps - warmup);
        return s.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress))));
    }

    static (Tensor Input, Tensor Target) Batch(FimSampler sampler, Random rng, int batch, bool allowFim)
    {
        var inputs = new long[batch * sampler.SequenceLength];
        var targets = new long[batch * sampler.SequenceLength];
        for (int b = 0; b < batch; b++)
        {
            var (i, t) = sampler.Sample(rng, allowFim);
            i.CopyTo(inputs, b * sampler.SequenceLength);
            t.CopyTo(targets, b * sampler.SequenceLength);
        }
        return (tensor(inputs, new long[] { batch, sampler.SequenceLength }), tensor(targets, new long[] { batch, sampler.SequenceLength }));
    }

    /// <summary>Mean next-token loss on 64 fixed windows of held-out modules (plain text, no FIM).</summary>
    public static double Evaluate(CausalLM model, FimSampler heldOut, Settings s)
    {
        using var _ = no_grad();
        var rng = new Random(12345);
        double total = 0;
        long count = 0;
        for (int i = 0; i < 8; i++)
        {
            using var scope = NewDisposeScope();
            var (input, target) = Batch(heldOut, rng, 8, allowFim: false);
            var logits = model.Forward(input, arange(heldOut.SequenceLength), cache: null, lastOnly: false);
            var loss = F.cross_entropy(logits.view(-1, logits.shape[^1]), target.view(-1), ignore_index: FimSampler.IgnoreIndex, reduction: nn.Reduction.Sum);
            total += loss.item<float>();
            count += (target != FimSampler.IgnoreIndex).sum().item<long>();
        }
        return total / count;
    }

    void SaveCheckpoint(CausalLM model, AdamW optimizer, JsonObject state)
    {
        string tmp = Checkpoint + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        foreach (var f in Directory.GetFiles(ModelFolder).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(tmp, Path.GetFileName(f)));
        WeightFolderWriter.Write(tmp, model.NamedWeights().Select(w => TensorData.Of(w.Name, "F32", w.P.shape, TensorBytes.ToBytes(w.P, ScalarType.Float32))).ToList());
        optimizer.Save(Path.Combine(tmp, "adamw.bin"));
        File.WriteAllText(Path.Combine(tmp, "state.json"), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        // Swap whole folders so a kill at any moment leaves either the old checkpoint or the new one.
        string old = Checkpoint + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(Checkpoint)) Directory.Move(Checkpoint, old);
        Directory.Move(tmp, Checkpoint);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    string CheckpointModelFolder() => Checkpoint;

    List<string> ReadDocs(string name) =>
        File.ReadAllText(Path.Combine(Folder, name)).Split("\u0000", StringSplitOptions.RemoveEmptyEntries).ToList();

    public string LatestWeights() => File.Exists(Path.Combine(Checkpoint, "model.safetensors")) ? Checkpoint : ModelFolder;
}
