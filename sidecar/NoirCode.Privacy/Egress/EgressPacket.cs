using NoirCode.Protocol;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Egress;

public enum EgressKind { HiddenStates, BoundaryGradient }

/// <summary>
/// Exactly what leaves the machine for one request: a block of hidden states (or boundary gradients) at
/// consecutive positions [StartPosition, StartPosition + Tokens), encoded in the wire dtype. There is no field
/// for anything else: no ids, no text, no logits.
/// </summary>
/// <remarks>
/// The trust boundary in the type system: the constructor is internal, so only <see cref="EgressGuard.Admit"/>
/// (which checks, charges and taps) can make one, and the payload is read-only after it. The client transport
/// builds a request's <see cref="HiddenBlock"/> with <see cref="ToHiddenBlock"/> and has no other way to encode a
/// tensor (<see cref="HiddenStateCodec"/>'s encoder is internal to Protocol, visible to this assembly and the
/// endpoint only).
/// </remarks>
public sealed class EgressPacket
{
    public EgressKind Kind { get; }
    public long StartPosition { get; }
    public long Tokens { get; }
    public int HiddenSize { get; }
    public WireDtype Dtype { get; }
    /// <summary>The encoded bytes (data, then int8 scales), exactly as they go on the wire.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    internal EgressPacket(EgressKind kind, long startPosition, long tokens, int hiddenSize, WireDtype dtype, ReadOnlyMemory<byte> payload)
    {
        Kind = kind; StartPosition = startPosition; Tokens = tokens; HiddenSize = hiddenSize; Dtype = dtype; Payload = payload;
    }

    /// <summary>The protocol block for this packet, sharing its bytes.</summary>
    public HiddenBlock ToHiddenBlock() => HiddenBlocks.FromPayload(Payload, Dtype, Tokens, HiddenSize);

    /// <summary>What a receiver decodes from this packet: float32 [1, T, D].</summary>
    public Tensor Decode() => HiddenStateCodec.Decode(Payload.Span, Dtype, Tokens, HiddenSize);

    /// <summary>This packet's first <paramref name="tokens"/> positions (admitted and charged with it already), for a
    /// replay history cut back by a truncation.</summary>
    public EgressPacket Prefix(long tokens)
    {
        if (tokens <= 0 || tokens > Tokens) throw new ArgumentOutOfRangeException(nameof(tokens), $"a prefix of a {Tokens}-position packet must keep 1..{Tokens}");
        if (tokens == Tokens) return this;
        if (Dtype != WireDtype.Int8Blockwise)
            return new EgressPacket(Kind, StartPosition, tokens, HiddenSize, Dtype, Payload[..(int)HiddenStateCodec.PayloadBytes(Dtype, tokens * HiddenSize)]);
        // int8 blocks of 64 values need not end at a row: the prefix is encoded again from what the wire held.
        using var full = Decode();
        using var kept = full.narrow(1, 0, tokens);
        return new EgressPacket(Kind, StartPosition, tokens, HiddenSize, Dtype, HiddenStateCodec.Encode(kept, Dtype));
    }
}

/// <summary>Observes every packet that passes the guard (tests capture the wire with it).</summary>
public interface IEgressTap
{
    void Observe(EgressPacket packet);
}
