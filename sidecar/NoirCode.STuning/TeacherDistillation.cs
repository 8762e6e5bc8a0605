using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Training;
using NoirCode.STuning.LabelProtection;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.STuning;

/// <summary>
/// Distillation from the whole public model in forward-only STuning. The teacher runs here on the clean tokens, its
/// next-token distribution is re-indexed into the LTokenizer order the client's head predicts, and the client learns
/// from (1 − w)·CE(labels) + w·KL(teacher ‖ client). A label says which token came; the teacher says how likely each
/// one was, which is far more signal per sample for a decoder that must learn to read 16 unrelated rows per token.
/// Nothing of the teacher leaves this machine: it is allowed only when no gradient is sent (forward-only), because a
/// sent gradient of this loss would carry the teacher's reading of the private tokens.
/// </summary>
public sealed class TeacherDistillation : IDisposable
{
    readonly CausalLM _teacher;
    readonly Tensor _tokenOfIndex; // LTokenizer index i → the token whose index it is

    /// <summary>w: the distillation term's share of the loss, in (0, 1].</summary>
    public double Weight { get; }

    /// <summary>A gradient sent to the endpoint would carry the teacher's reading of the code: forward-only tuning only.</summary>
    public static void RequireForwardOnly(LabelProtectionSettings protection)
    {
        if (!protection.ForwardOnly)
            throw new ArgumentException("--teacher is for forward-only tuning (--label-protection default): a gradient sent to the endpoint would carry the teacher's reading of your code");
    }

    public static bool IsWeight(double weight) => weight > 0 && weight <= 1;

    public TeacherDistillation(CausalLM teacher, IVocabularyMapping mapping, double weight)
    {
        if (!IsWeight(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "the distillation weight is in (0, 1]");
        int vocab = teacher.Config.VocabSize;
        var tokenOfIndex = Enumerable.Repeat(-1L, vocab).ToArray();
        for (int t = 0; t < vocab; t++)
        {
            int i = mapping.ToIndex(t);
            if (i < 0 || i >= vocab || tokenOfIndex[i] >= 0)
                throw new ArgumentException($"the keys' vocabulary mapping is not a permutation of the teacher's {vocab} tokens");
            tokenOfIndex[i] = t;
        }
        _teacher = teacher; Weight = weight;
        _teacher.eval();
        foreach (var (_, p) in _teacher.NamedWeights()) p.requires_grad_(false);
        _tokenOfIndex = tensor(tokenOfIndex);
    }

    /// <summary>The teacher's next-token log-probabilities after each of <paramref name="tokens"/> (public ids), over
    /// LTokenizer indices: [tokens, vocab].</summary>
    public Tensor TeacherLogProbs(long[] tokens)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(tokens).unsqueeze(0);
        var logits = _teacher.Forward(ids, arange(tokens.Length), cache: null, lastOnly: false)[0];
        return F.log_softmax(logits.index_select(-1, _tokenOfIndex), -1).MoveToOuterDisposeScope();
    }

    /// <summary>KL(teacher ‖ client) after each of <paramref name="tokens"/>, averaged over the positions that have a label.</summary>
    public Tensor Divergence(Tensor clientLogits, long[] tokens, Tensor labels) => Divergence(clientLogits, TeacherLogProbs(tokens), labels);

    public static Tensor Divergence(Tensor clientLogits, Tensor teacherLogProbs, Tensor labels)
    {
        var client = F.log_softmax(clientLogits, -1);
        var perPosition = (teacherLogProbs.exp() * (teacherLogProbs - client)).sum(-1);
        return perPosition.masked_select(labels.ne(FimSampler.IgnoreIndex)).mean();
    }

    /// <summary>The loss the client learns from: the labels' cross-entropy mixed with the divergence from the teacher.</summary>
    public Tensor Mix(Tensor crossEntropy, Tensor divergence) => crossEntropy * (1 - Weight) + divergence * Weight;

    public void Dispose() { _tokenOfIndex.Dispose(); _teacher.Dispose(); }
}
