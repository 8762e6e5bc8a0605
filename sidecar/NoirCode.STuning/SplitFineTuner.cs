using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Training;
using NoirCode.Core.Util;
using NoirCode.Core.Weights;
using NoirCode.Privacy;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.STuning.LabelProtection;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.STuning;

public sealed record TuneSettings(int Steps, int Batch, int SequenceLength, double LearningRate, int Seed = 11, double CheckpointMinutes = 5)
{
    /// <summary>What the boundary gradient hides of the labels; on by default (docs/privacy.md §9.3).</summary>
    public LabelProtectionSettings LabelProtection { get; init; } = LabelProtectionSettings.Default;
}

/// <summary>
/// STuning (NOIR §7): split fine-tuning under the privacy keys. The client trains its encoder and decoder blocks,
/// final norm and head fully (the INDVocab embedding stays fixed); the endpoint trains the tenant's LoRA on the
/// middle blocks. Per sample: the encoder output goes up, the middle output comes down, the loss is next-token
/// cross-entropy on LTokenizer indices, the gradient at the middle output goes up and the gradient at the encoder
/// output comes down. Per-sample gradients are averaged over a batch on both sides. Only hidden states and
/// boundary gradients travel, through the egress guard. The decoder and head train on the full loss locally; the
/// boundary gradient that leaves is the label-protected one (<see cref="BoundaryGradientProtector"/>) unless the
/// settings turn protection off. The default is forward-only (the rows sent are zeros: no label leaves), so by
/// default the encoder and the endpoint's LoRA receive zero gradients and stay as they are. Forward-only tuning may
/// add a teacher (<see cref="TeacherDistillation"/>): the whole public model, run here, whose distribution the decoder
/// and head learn besides the labels.
/// The tuned client shard is written owner-only, bound to the keys, with checkpoints to resume from.
/// </summary>
public sealed class SplitFineTuner
{
    /// <summary>AdamW's state (safetensors inside, named so the shard's weight loader skips it).</summary>
    const string OptimizerFile = "adamw.bin";
    readonly ClientModel _client;
    readonly PrivacyKeys _keys;
    readonly RemoteTrainingSession _remote;
    readonly string _out;
    readonly TeacherDistillation? _teacher;

    /// <summary>With a teacher: the mean KL(teacher ‖ client) of each step this run took.</summary>
    public List<double> TeacherDivergences { get; } = new();

    /// <summary>Raised at the start of each step, before any of its gradients is sent (the attack harness
    /// snapshots the client's decoder here: the strongest attacker's knowledge).</summary>
    public event Action<int, ClientModel>? StepStarting;

    /// <param name="teacher">the whole public model to distil from (forward-only tuning only), or none</param>
    public SplitFineTuner(ClientModel client, PrivacyKeys keys, RemoteTrainingSession remote, string outFolder, TeacherDistillation? teacher = null)
    {
        if (client.Head.Tied) throw new ArgumentException("load the client with untieHead: true");
        _client = client; _keys = keys; _remote = remote; _out = outFolder; _teacher = teacher;
    }

    /// <summary>What the client trains: encoder and decoder blocks, final norm and head, under their HF names.</summary>
    List<(string Name, TorchSharp.Modules.Parameter P)> Trainable() =>
        _client.Encoder.NamedWeights().Concat(_client.Decoder.NamedWeights()).Concat(_client.Head.NamedWeights()).ToList();

    /// <returns>the mean loss of each step (the labels' cross-entropy, with or without a teacher)</returns>
    public List<double> Run(IReadOnlyList<string> documents, TuneSettings s, IProgressSink progress, string sourceModelFolder)
    {
        if (_teacher is not null) TeacherDistillation.RequireForwardOnly(s.LabelProtection);
        _client.Embedding.Weight.requires_grad_(false); // INDVocab is the privacy mechanism's output: fixed
        var parameters = Trainable().Select(w => w.P).ToList();
        var optimizer = new AdamW(parameters, s.LearningRate, weightDecay: 0.0);
        var state = LoadState(optimizer);
        int step = (int)state["step"]!;
        var losses = state["losses"]!.AsArray().Select(x => (double)x!).ToList();
        var sampler = new FimSampler(documents, _client.Tokenizer, s.SequenceLength);
        // The longest window the decoder has now been tuned on, this run's or an earlier one's.
        int window = Math.Max(s.SequenceLength, TunedShardBinding.WindowTokens(sourceModelFolder) ?? 0);
        var perm = _keys.Mapping();
        var protector = !s.LabelProtection.Enabled ? null : new BoundaryGradientProtector(s.LabelProtection,
            s.LabelProtection.ForwardOnly ? null : LabelProtectionSecret.Derive(_keys, RunNonce(state))); // forward-only draws nothing
        var sinceCheckpoint = Stopwatch.StartNew();
        while (step < s.Steps)
        {
            var rng = StepRandom(s, step);
            StepStarting?.Invoke(step, _client);
            optimizer.zero_grad();
            double stepLoss = 0, stepDivergence = 0;
            for (int b = 0; b < s.Batch; b++)
            {
                using var scope = NewDisposeScope();
                var (input, target) = sampler.Sample(rng);
                var ids = tensor(input.Select(t => (long)perm.ToInputIndex((int)t)).ToArray()).unsqueeze(0);
                var labels = tensor(target.Select(t => t == FimSampler.IgnoreIndex ? t : perm.ToIndex((int)t)).ToArray());
                var positions = arange(s.SequenceLength);
                ulong sampleId = RandomSampleIds.Next(); // says nothing of the step or the batch
                var encoded = _client.FirstBlocks(ids, positions, cache: null);
                var middle = _remote.Forward(sampleId, encoded.detach()).requires_grad_(true);
                var logits = _client.LastBlocksAndHead(middle, positions, cache: null, lastOnly: false)[0];
                var loss = F.cross_entropy(logits, labels, ignore_index: FimSampler.IgnoreIndex);
                // The protected gradient first (it needs the graph), then the local backward on the full loss.
                var sent = protector?.SentGradient(logits, labels, middle, sampleId);
                var learnt = loss;
                if (_teacher is not null)
                {
                    var divergence = _teacher.Divergence(logits, input, labels);
                    learnt = _teacher.Mix(loss, divergence);
                    stepDivergence += divergence.item<float>();
                }
                learnt.backward();
                var encodedGrad = _remote.Backward(sampleId, sent ?? middle.grad!);
                encoded.backward(new[] { encodedGrad.to(encoded.dtype) });
                stepLoss += loss.item<float>();
            }
            using (no_grad())
            using (var batch = s.Batch.ToScalar()) // explicit and kept alive through the calls (see RmsNorm)
                foreach (var p in parameters) p.grad?.div_(batch); // the average of per-sample gradients
            nn.utils.clip_grad_norm_(parameters, 1.0);
            optimizer.step();
            _remote.Step();
            step++;
            losses.Add(Math.Round(stepLoss / s.Batch, 4));
            if (_teacher is not null) TeacherDivergences.Add(Math.Round(stepDivergence / s.Batch, 4));
            progress.Report("tuning", step, s.Steps, $"loss {stepLoss / s.Batch:F3}" + (_teacher is null ? "" : $", from the teacher {stepDivergence / s.Batch:F3}"));
            if (sinceCheckpoint.Elapsed.TotalMinutes >= s.CheckpointMinutes || step == s.Steps)
            {
                state["step"] = step;
                state["seed"] = s.Seed;
                state["losses"] = new JsonArray(losses.Select(l => (JsonNode)l).ToArray());
                Save(optimizer, state, sourceModelFolder, window);
                sinceCheckpoint.Restart();
            }
        }
        progress.Done("tuning");
        return losses;
    }

    /// <summary>This run's label-protection nonce: from the state of the run being resumed, or a new one.</summary>
    static string RunNonce(JsonObject state)
    {
        if ((string?)state["protection_nonce"] is { Length: > 0 } nonce) return nonce;
        string fresh = LabelProtectionSecret.NewRunNonce();
        state["protection_nonce"] = fresh;
        return fresh;
    }

    JsonObject LoadState(AdamW optimizer)
    {
        string stateFile = Path.Combine(_out, "tuning_state.json");
        if (!File.Exists(stateFile)) return new JsonObject { ["step"] = 0, ["losses"] = new JsonArray() };
        TunedShardBinding.Check(_out, _keys.Metadata.KeyId);
        // A checkpoint from before NoirCode had its own AdamW keeps its weights; its moments start afresh.
        if (File.Exists(Path.Combine(_out, OptimizerFile))) optimizer.Load(Path.Combine(_out, OptimizerFile));
        return JsonNode.Parse(File.ReadAllText(stateFile))!.AsObject();
    }

    /// <summary>Writes the tuned client shard (owner-only) with its binding to the keys and the resume state.</summary>
    void Save(AdamW optimizer, JsonObject state, string sourceModelFolder, int windowTokens)
    {
        var tuned = Trainable().Select(w => TensorData.Of(w.Name, "F32", w.P.shape, TensorBytes.ToBytes(w.P, ScalarType.Float32)));
        TunedShardWriter.Write(_out, sourceModelFolder, _client.Config, _client.Split, _keys.Metadata.ModelFingerprint, tuned, _keys.Metadata, (int)state["step"]!, _remote.AdapterId, windowTokens);
        optimizer.Save(Path.Combine(_out, OptimizerFile), SecureFiles.OwnerFile);
        SecureFiles.WriteAllText(Path.Combine(_out, "tuning_state.json"), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The sampler seed a checkpoint in <paramref name="outFolder"/> was tuned with (11, the fixed seed of
    /// checkpoints that predate the record).</summary>
    public static int SavedSeed(string outFolder) =>
        (int?)JsonNode.Parse(File.ReadAllText(Path.Combine(outFolder, "tuning_state.json")))!["seed"] ?? 11;

    /// <summary>The sampler's random source for a step: resumable runs and the attack harness redraw the same samples.</summary>
    public static Random StepRandom(TuneSettings s, int step) => new(s.Seed * 1_000_003 + step);
}
