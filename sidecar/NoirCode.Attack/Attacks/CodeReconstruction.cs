using static TorchSharp.torch;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// CodeRA route 1 of the paper: the cloud feeds what it received through its middle blocks and the public
/// decoder blocks and head, and reads the most likely next token at each position as its guess of the token
/// that follows. (Without keys this is exactly what the client computes, so it recovers the code the client
/// would generate.) The first position, which nothing predicts, is guessed as the most frequent public token.
/// The cloud's STuning LoRA is not applied: the public middle is the attacker's best public model.
/// </summary>
public sealed class CodeReconstruction(AttackerKnowledge k) : ICloudAttack
{
    readonly int _first = k.Statistics.ByFrequency()[0];

    public string Name => "code-reconstruction";
    public string Description => "encoder outputs → public middle blocks → public decoder blocks and head; argmax next token";

    public IReadOnlyList<int[]> Reconstruct(IReadOnlyList<Tensor> views)
    {
        using var _ = no_grad();
        return views.Select(h =>
        {
            using var scope = NewDisposeScope();
            long t = h.shape[0];
            var positions = arange(t);
            var middle = k.PublicMiddle.Middle.Forward(h.unsqueeze(0), positions);
            var next = k.PublicClient.LastBlocksAndHead(middle, positions, cache: null, lastOnly: false)[0].argmax(1).data<long>().ToArray();
            var guess = new int[t];
            guess[0] = _first;
            for (int i = 1; i < t; i++) guess[i] = (int)next[i - 1];
            return guess;
        }).ToList();
    }
}
