using NoirCode.Privacy.Ledger;
using NoirCode.Protocol;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Egress;

/// <summary>
/// The one choke point for everything bound for the cloud. It admits only finite floating-point tensors of
/// the model's hidden size, refuses everything else (token ids, text, logits, odd shapes), enforces the
/// exposure budget exactly (used + tokens ≤ limit, checked and charged under the ledger lock, so several processes on
/// one ledger cannot overshoot together), charges the ledger, and hands the encoded bytes to the transport.
/// With a charge block, the ledger is charged a block of tokens ahead (one fsync, <see cref="ExposureReservation"/>)
/// that sends then consume; the block is settled with the true count when it runs out and on <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Why Privacy depends on Protocol and not the reverse: the guard encodes with the protocol's codec, so the bytes
/// it charges and taps are the bytes on the wire, and the endpoint, which needs only Protocol, links no privacy
/// code. The compiler keeps the choke point: <see cref="EgressPacket"/>'s constructor is internal to this assembly,
/// and Protocol lets only this assembly and the endpoint encode a tensor.
/// </remarks>
public sealed class EgressGuard : IDisposable
{
    readonly int _hidden;
    readonly ExposureLedger? _ledger;
    ExposureBudget? _budget;
    readonly List<IEgressTap> _taps = new();
    readonly long _chargeBlock;
    ExposureReservation? _reservation;
    readonly object _charging = new();

    public string WorkspaceId { get; }
    public string KeyId { get; }
    public WireDtype Dtype { get; }
    /// <summary>The exposure budget enforced on every packet; settable, as editors change it while running.</summary>
    public ExposureBudget? Budget
    {
        get => _budget;
        set { lock (_charging) { _budget = value; SettleUnlocked(); } } // a new limit applies from the next block
    }
    /// <summary>Set after each admitted packet: what the last request cost.</summary>
    public (long Tokens, long Bytes) Last { get; private set; }

    /// <param name="chargeBlock">tokens reserved in the ledger at a time (one fsync per block instead of per send);
    /// 0: every send is charged on its own</param>
    public EgressGuard(int hiddenSize, WireDtype dtype = WireDtype.Float16, ExposureLedger? ledger = null,
        string workspaceId = "default", string keyId = "none", ExposureBudget? budget = null, long chargeBlock = 0)
    {
        if (chargeBlock < 0) throw new ArgumentOutOfRangeException(nameof(chargeBlock));
        HiddenStateCodec.Known(dtype); // an unknown dtype is refused here, not encoded as another
        _hidden = hiddenSize; Dtype = dtype; _ledger = ledger; _budget = budget; _chargeBlock = chargeBlock;
        WorkspaceId = workspaceId; KeyId = keyId;
    }

    public void AddTap(IEgressTap tap) { lock (_taps) _taps.Add(tap); }

    /// <summary>For transports that receive payloads untyped: anything that is not a tensor is refused here.</summary>
    public EgressPacket AdmitObject(object payload, EgressKind kind, long startPosition) =>
        payload is Tensor t ? Admit(t, kind, startPosition)
            : throw new EgressRejectedException($"only hidden-state tensors may leave this machine, not a {payload.GetType().Name}");

    /// <param name="tensor">[1, T, D] or [T, D]</param>
    public EgressPacket Admit(Tensor tensor, EgressKind kind, long startPosition)
    {
        if (!tensor.is_floating_point())
            throw new EgressRejectedException($"refused a {tensor.dtype} tensor: token ids and other integers never leave this machine");
        long tokens = tensor.dim() switch
        {
            3 when tensor.shape[0] == 1 => tensor.shape[1],
            2 => tensor.shape[0],
            _ => throw new EgressRejectedException($"refused a tensor of shape [{string.Join(", ", tensor.shape)}]: expected [1, T, {_hidden}]"),
        };
        if (tensor.shape[^1] != _hidden)
            throw new EgressRejectedException($"refused a tensor whose last dimension is {tensor.shape[^1]}: only hidden states of size {_hidden} may leave (never logits)");
        if (tokens == 0) throw new EgressRejectedException("refused an empty tensor");
        if (startPosition < 0) throw new EgressRejectedException("refused a negative position");
        using (var each = tensor.isfinite())
        using (var finite = each.all())
            if (!finite.item<bool>()) throw new EgressRejectedException("refused a tensor with NaN or infinite values");

        var packet = new EgressPacket(kind, startPosition, tokens, _hidden, Dtype, HiddenStateCodec.Encode(tensor, Dtype));
        Charge(tokens, packet.Payload.Length);
        Last = (tokens, packet.Payload.Length);
        Observe(packet);
        return packet;
    }

    /// <summary>
    /// Packets admitted before, about to be sent again to another endpoint (a failover replay): they cross the wire
    /// again, to a party that has not seen them, so they are charged again like any send. All or none: one charge for
    /// all of them, so the exact budget check refuses the whole replay before any of it is charged or sent.
    /// </summary>
    public void AdmitResend(IReadOnlyList<EgressPacket> packets)
    {
        long tokens = packets.Sum(p => p.Tokens);
        if (tokens == 0) return;
        Charge(tokens, packets.Sum(p => (long)p.Payload.Length));
        foreach (var packet in packets) Observe(packet);
    }

    /// <summary>Charged (and the budget checked exactly, under the ledger lock) before anything goes to the transport.</summary>
    void Charge(long tokens, long bytes)
    {
        if (_ledger != null && _chargeBlock > 0) ChargeFromBlock(tokens, bytes);
        else _ledger?.Charge(WorkspaceId, KeyId, tokens, bytes, within: _budget);
    }

    void Observe(EgressPacket packet)
    {
        IEgressTap[] taps;
        lock (_taps) taps = _taps.ToArray();
        foreach (var tap in taps) tap.Observe(packet);
    }

    /// <summary>Charges a send from the reserved block, reserving (durably) a new one first when it cannot cover it.
    /// With a budget, the new block is cut to what the budget has left, and refused when not even this send fits.</summary>
    void ChargeFromBlock(long tokens, long bytes)
    {
        lock (_charging)
        {
            if (_reservation?.TryConsume(tokens, bytes) == true) return;
            SettleUnlocked(); // its unsent rest goes back before the budget is read again
            long block = Math.Max(tokens, _chargeBlock);
            long BytesFor(long n) => Math.Max(bytes, HiddenStateCodec.PayloadBytes(Dtype, n * _hidden));
            _reservation = _budget == null
                ? _ledger!.Reserve(WorkspaceId, KeyId, block, BytesFor(block))
                : _ledger!.ReserveWithin(_budget, WorkspaceId, KeyId, tokens, block, BytesFor);
            if (!_reservation.TryConsume(tokens, bytes)) throw new InvalidOperationException("a fresh reservation could not cover its send");
        }
    }

    /// <summary>Records the true count of the reserved block now (the status then shows exactly what was sent).</summary>
    public void Settle()
    {
        lock (_charging) SettleUnlocked();
    }

    void SettleUnlocked()
    {
        _reservation?.Settle();
        _reservation = null;
    }

    public void Dispose() => Settle();
}

/// <summary>A payload the egress guard refused to send.</summary>
public sealed class EgressRejectedException(string message) : Exception(message);
