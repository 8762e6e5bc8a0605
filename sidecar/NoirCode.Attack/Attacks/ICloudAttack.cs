using static TorchSharp.torch;

namespace NoirCode.Attack.Attacks;

/// <summary>
/// An attack by the cloud on what it received. Input: the encoder outputs of each private sequence, float32
/// [T, D] as decoded from the wire. Output: one guessed token per position of each sequence. Attacks that
/// look across prompts (clustering, frequency analysis) see all sequences at once, as a cloud that logs its
/// traffic would.
/// </summary>
public interface ICloudAttack
{
    string Name { get; }
    /// <summary>One line: what the attacker does and what it learned from.</summary>
    string Description { get; }
    IReadOnlyList<int[]> Reconstruct(IReadOnlyList<Tensor> views);
}
