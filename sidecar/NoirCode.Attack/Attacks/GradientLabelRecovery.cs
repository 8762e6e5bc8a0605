using NoirCode.Core.Model;
using NoirCode.Core.Split;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// Label recovery from STuning's boundary gradients, as the endpoint can run it. Per sample the cloud holds the
/// middle's output Ë [T, D] (it computed it) and receives g = ∂L/∂Ë with L the mean next-token cross-entropy over
/// N labelled positions. With a copy of the client's decoder (the public one at step 0, exactly the client's):
/// <code>
///   N·g_i = Σ_{j ≥ i} J_jiᵀ (p_j − e_{y_j})        (J_ji = ∂z_j/∂Ë_i; causal, so j ≥ i only)
///   J_iiᵀ e_t = A_iᵀ w_t                            (A_i = ∂ norm(u_i)/∂Ë_i, w_t = head row t)
/// </code>
/// so with the later labels known, the own label solves A_iᵀ w_y = J_iiᵀ p_i − N (g_i − O_i), O_i the later
/// positions' share of row i. The last position has no later ones: back-substitution. Here it runs as a fixed
/// point: guess every label from its own row, compute every O_i with one backward pass through the whole
/// sequence, guess again, until no label changes (the exact back-substitution's answer, in a few passes).
/// A_i comes from one batched backward pass per position: the decoder runs position i alone over a key/value
/// cache of the earlier positions (held constant), once per output coordinate in a batch of D.
/// </summary>
public sealed class GradientLabelRecovery(ClientModel decoder)
{
    /// <summary>The recovered label of each position (an index of the head's vocabulary: under the keys, the
    /// LTokenizer's cipher symbol), or -1 where the row fits "no label" (a position the loss ignored) best.</summary>
    /// <param name="middle">Ë [T, D], float32</param>
    /// <param name="gradient">∂L/∂Ë [T, D] as received</param>
    /// <param name="labelled">N, the labelled positions the loss averages over; null: estimated from the last positions</param>
    public int[] Recover(Tensor middle, Tensor gradient, int? labelled = null, int maxPasses = 6) =>
        RecoverBoth(middle, gradient, labelled, maxPasses).BackSubstitution;

    /// <summary>Both solves from one (costly) analysis of the sample: the exact back-substitution, and the
    /// scale-free direction match of each row on its own (<see cref="SolveDirections"/>), which is the one that
    /// survives clipping, masking and noise best.</summary>
    public RecoveredLabels RecoverBoth(Tensor middle, Tensor gradient, int? labelled = null, int maxPasses = 6)
    {
        using var scope = NewDisposeScope();
        long t = middle.shape[0];
        var positions = arange(t);
        var h = middle.to_type(ScalarType.Float32).unsqueeze(0).detach().requires_grad_(true);
        var logits = decoder.LastBlocksAndHead(h, positions, cache: null, lastOnly: false)[0];   // [T, V]
        var p = F.softmax(logits, 1).detach();
        var own = OwnJacobians(middle);                                                // [T, D(out), D(in)]
        var w = decoder.Head.Weight.detach().to_type(ScalarType.Float32);              // [V, D]
        var g = gradient.to_type(ScalarType.Float32);
        // J_iiᵀ p_i = A_iᵀ (Wᵀ p_i), for every position.
        var expected = own.transpose(1, 2).matmul(p.matmul(w).unsqueeze(2)).squeeze(2); // [T, D]
        var norms = CandidateNorms(own, w);                                            // [T, V]: ||A_iᵀ w_t||²
        var directions = SolveDirections(own, w, norms, expected, g);
        double n = labelled ?? EstimateLabelled(own, w, expected, g);
        var labels = Enumerable.Repeat(-1, (int)t).ToArray();
        var later = zeros_like(g);
        for (int pass = 0; pass < maxPasses; pass++)
        {
            var next = Solve(own, w, norms, expected, n * (g - later));
            bool same = next.SequenceEqual(labels);
            labels = next;
            if (same) break;
            later = LaterShare(logits, h, p, labels, own, w, n);
        }
        return new RecoveredLabels(labels, directions);
    }

    /// <summary>Per position, the label whose own-row gradient direction v_t = J_iiᵀ(p_i − e_t) has the largest
    /// cosine with the received row: blind to the row's scale (clipping, the unknown N, a mask) and to the later
    /// positions' share, which it treats as noise.</summary>
    static int[] SolveDirections(Tensor own, Tensor w, Tensor norms, Tensor expected, Tensor observed)
    {
        using var scope = NewDisposeScope();
        // o·v_t = o·e − (A_i o)·w_t ;  ||v_t||² = ||e||² − 2 (A_i e)·w_t + ||A_iᵀ w_t||²
        var oe = (observed * expected).sum(1, keepdim: true);                          // [T, 1]
        var ao = own.matmul(observed.unsqueeze(2)).squeeze(2);                          // [T, D]
        var ae = own.matmul(expected.unsqueeze(2)).squeeze(2);                          // [T, D]
        var dot = oe - ao.matmul(w.t());                                                // [T, V]
        var length = (expected.pow(2).sum(1, keepdim: true) - 2 * ae.matmul(w.t()) + norms).clamp_min(1e-30).sqrt();
        return (dot / length).argmax(1).data<long>().Select(l => (int)l).ToArray();
    }

    /// <summary>For each position, the label whose own-row gradient J_iiᵀ(p_i − e_t) = expected_i − A_iᵀ w_t is
    /// nearest to the observed own row (N times the gradient less the later positions' share); -1 when a zero
    /// row (no label) is nearer still.</summary>
    static int[] Solve(Tensor own, Tensor w, Tensor norms, Tensor expected, Tensor observed)
    {
        using var scope = NewDisposeScope();
        var target = expected - observed;                                               // [T, D]
        // ||A_iᵀ w_t − target_i||² = ||A_iᵀ w_t||² − 2 w_tᵀ (A_i target_i) + ||target_i||²
        var projected = own.matmul(target.unsqueeze(2)).squeeze(2);                     // [T, D]: A_i target_i
        var distance = norms - 2 * projected.matmul(w.t()) + target.pow(2).sum(1, keepdim: true);
        var (d, best) = distance.min(1);
        var none = observed.pow(2).sum(1);
        var labels = best.data<long>().ToArray();
        var keep = (d <= none).data<bool>().ToArray();
        return labels.Select((l, i) => keep[i] ? (int)l : -1).ToArray();
    }

    /// <summary>||A_iᵀ w_t||² for every position and token: the costly part, computed once per sample.</summary>
    static Tensor CandidateNorms(Tensor own, Tensor w)
    {
        long t = own.shape[0];
        var norms = zeros(t, w.shape[0]);
        for (long i = 0; i < t; i++)
        {
            using var step = NewDisposeScope();
            norms[i].copy_(w.matmul(own[i]).pow(2).sum(1));
        }
        return norms;
    }

    /// <summary>O_i = Σ_{j > i} J_jiᵀ (p_j − e_{y_j}) / N: the whole backward pass minus each position's own part.</summary>
    static Tensor LaterShare(Tensor logits, Tensor h, Tensor p, int[] labels, Tensor own, Tensor w, double n)
    {
        var e = F.one_hot(tensor(labels.Select(l => (long)Math.Max(0, l)).ToArray()), p.shape[1]).to_type(ScalarType.Float32);
        var mask = tensor(labels.Select(l => l >= 0 ? 1f : 0f).ToArray()).unsqueeze(1);
        var upstream = (p - e) * mask / n;
        var full = torch.autograd.grad(new[] { logits }, new[] { h }, new[] { upstream }, retain_graph: true)[0][0];
        var ownPart = own.transpose(1, 2).matmul(upstream.matmul(w).unsqueeze(2)).squeeze(2);
        return (full - ownPart).detach();
    }

    /// <summary>N from the last position with a gradient (the positions after it are ignored ones, whose rows are
    /// zero), where no later position contributes: the scale at which some label fits.</summary>
    static double EstimateLabelled(Tensor own, Tensor w, Tensor expected, Tensor g)
    {
        using var scope = NewDisposeScope();
        var norms = g.pow(2).sum(1).data<float>().ToArray();
        long last = Array.FindLastIndex(norms, x => x > 0);
        if (last < 0) return 1;
        var k = w.matmul(own[last]);                                    // [V, D]
        var diff = expected[last].unsqueeze(0) - k;                     // = N g_last for the true label
        var gl = g[last];
        var scale = diff.matmul(gl) / gl.dot(gl).clamp_min(1e-30);      // least-squares N per candidate
        var residual = (diff - scale.unsqueeze(1) * gl.unsqueeze(0)).pow(2).sum(1);
        return Math.Max(1, Math.Round(scale[residual.argmin()].item<float>()));
    }

    /// <summary>A_i = ∂ norm(u_i)/∂Ë_i [D, D] for every position: position i runs alone over a cache of positions
    /// before it (constants), as a batch of D copies, and one backward pass with the identity as upstream gradient
    /// gives all D rows.</summary>
    Tensor OwnJacobians(Tensor middle)
    {
        long t = middle.shape[0], d = middle.shape[1];
        var result = zeros(t, d, d);
        var x = middle.to_type(ScalarType.Float32).unsqueeze(0);
        var eye = torch.eye(d).unsqueeze(1);                            // [D, 1, D]
        for (long i = 0; i < t; i++)
        {
            using var step = NewDisposeScope();
            using var cache = decoder.Decoder.NewCache();
            if (i > 0)
                using (no_grad()) decoder.Decoder.Forward(x.narrow(1, 0, i), arange(i), cache);
            var hi = x.narrow(1, i, 1).expand(d, 1, d).clone().requires_grad_(true);
            var u = decoder.Decoder.Forward(hi, tensor(new[] { i }), cache);
            var normed = decoder.Head.Norm.forward(u);
            var rows = torch.autograd.grad(new[] { normed }, new[] { hi }, new[] { eye })[0];   // [D(out), 1, D(in)]
            result[i].copy_(rows.squeeze(1));
        }
        return result;
    }
}
