using NoirCode.Core.Util;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// A learned inversion model, trained by the attacker on the public encoder's outputs for public code: the
/// standardised hidden state goes through a residual MLP and a softmax over the vocabulary, whose weights start
/// from the nearest-neighbour codebook. It learns how context moves a token's encoder output, which the
/// per-token means of <see cref="NearestNeighbourInversion"/> cannot.
/// </summary>
public sealed class LearnedInversion : ICloudAttack
{
    public sealed record Settings(int Epochs = 3, int Batch = 512, double LearningRate = 2e-3, int Seed = 3);

    readonly Tensor _mean, _std;
    readonly Linear _up, _down, _out;

    public string Name => "learned-inversion";
    public string Description { get; }
    public double FinalTrainLoss { get; }

    public LearnedInversion(AttackerKnowledge k, NearestNeighbourInversion init, Settings s, IProgressSink progress)
    {
        int d = k.Config.HiddenSize, v = k.Config.VocabSize;
        var x = k.PublicHidden;
        _mean = x.mean(new long[] { 0 }, keepdim: true).detach();
        _std = x.std(0, keepdim: true).clamp_min(1e-4).detach();
        manual_seed(s.Seed);
        _up = nn.Linear(d, 2 * d);
        _down = nn.Linear(2 * d, d);
        _out = nn.Linear(d, v);
        using (no_grad())
        {
            _down.weight!.mul_(0.1);
            // Start from the codebook (cosine scores, sharpened); the MLP starts close to the identity.
            _out.weight!.copy_(init.Codebook * 10);
            _out.bias!.zero_();
        }
        var parameters = new[] { _up.weight!, _up.bias!, _down.weight!, _down.bias!, _out.weight!, _out.bias! };
        var optimizer = new Core.Training.AdamW(parameters.Select(p => (TorchSharp.Modules.Parameter)p), s.LearningRate, weightDecay: 0.0);
        var labels = tensor(k.PublicLabels);
        long n = x.shape[0], batches = (n + s.Batch - 1) / s.Batch;
        var rng = new Generator((ulong)s.Seed);
        double last = double.NaN;
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            var order = randperm(n, generator: rng);
            double sum = 0;
            for (long b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                var idx = order.narrow(0, b * s.Batch, Math.Min(s.Batch, n - b * s.Batch));
                optimizer.zero_grad();
                var loss = F.cross_entropy(Logits(x.index_select(0, idx)), labels.index_select(0, idx));
                loss.backward();
                optimizer.step();
                sum += loss.item<float>();
                progress.Report("learned inversion", epoch * batches + b + 1, s.Epochs * batches, $"loss {sum / (b + 1):F3}");
            }
            last = sum / batches;
        }
        progress.Done("learned inversion");
        FinalTrainLoss = last;
        Description = $"residual MLP + softmax over the vocabulary, trained on {n:N0} public encoder outputs ({s.Epochs} epochs, final train loss {last:F2})";
    }

    Tensor Logits(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var z = (hidden - _mean) / _std;
        z = z + _down.forward(F.gelu(_up.forward(z)));
        return _out.forward(z).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<int[]> Reconstruct(IReadOnlyList<Tensor> views)
    {
        using var _ = no_grad();
        return views.Select(h =>
        {
            using var scope = NewDisposeScope();
            return Logits(h).argmax(1).data<long>().Select(t => (int)t).ToArray();
        }).ToList();
    }
}
