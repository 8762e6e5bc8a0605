using NoirCode.Privacy.Ledger;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Egress;

public enum EgressKind { HiddenStates, BoundaryGradient }

/// <summary>
/// Exactly what leaves the machine for one request: a block of hidden states (or boundary gradients) at
/// consecutive positions [StartPosition, StartPosition + Tokens), encoded in the wire dtype. There is no field
/// for anything else: no ids, no text, no logits.
/// </summary>
public sealed record EgressPacket(EgressKind Kind, long StartPosition, long Tokens, int HiddenSize, WireDtype Dtype, byte[] Payload);

/// <summary>Observes every packet that passes the guard (tests capture the wire with it).</summary>
public interface IEgressTap
{
    void Observe(EgressPacket packet);
}

/// <summary>
/// The one choke point for everything bound for the cloud. It admits only finite floating-point tensors of
/// the model's hidden size, refuses everything else (token ids, text, logits, odd shapes), enforces the
/// exposure budget, charges the ledger, and hands the encoded bytes to the transport.
/// With a charge block, the ledger is charged a block of tokens ahead (one fsync, <see cref="ExposureReservation"/>)
/// that sends then consume; the block is settled with the true count when it runs out and on <see cref="Dispose"/>.
/// </summary>
public sealed class EgressGuard : IDisposable
{
    readonly int _hidden;
    readonly ExposureLedger? _ledger;
    ExposureBudget? _budget;
    readonly List<IEgressTap> _taps = new();
    // The budget is read from the ledger at most once a second; sends in between are added locally.
    BudgetState? _budgetRead;
    long _budgetReadAt, _sentSinceRead;
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
        set { _budget = value; _budgetRead = null; }
    }
    /// <summary>Set after each admitted packet: what the last request cost.</summary>
    public (long Tokens, long Bytes) Last { get; private set; }

    /// <param name="chargeBlock">tokens reserved in the ledger at a time (one fsync per block instead of per send);
    /// 0: every send is charged on its own</param>
    public EgressGuard(int hiddenSize, WireDtype dtype = WireDtype.Float16, ExposureLedger? ledger = null,
        string workspaceId = "default", string keyId = "none", ExposureBudget? budget = null, long chargeBlock = 0)
    {
        if (chargeBlock < 0) throw new ArgumentOutOfRangeException(nameof(chargeBlock));
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
        using (var finite = tensor.isfinite().all())
            if (!finite.item<bool>()) throw new EgressRejectedException("refused a tensor with NaN or infinite values");

        if (_budget != null && _ledger != null && _budget.Evaluate(UsedTokens(_budget, _ledger)) is { Action: not null } state)
            throw new ExposureBudgetExceededException(state);

        var packet = new EgressPacket(kind, startPosition, tokens, _hidden, Dtype, HiddenStateCodec.Encode(tensor, Dtype));
        Charge(packet);
        Last = (tokens, packet.Payload.LongLength);
        return packet;
    }

    /// <summary>
    /// Packets admitted before, about to be sent again to another endpoint (a failover replay): they cross the wire
    /// again, to a party that has not seen them, so they are charged again like any send. All or none: refused
    /// before any is charged when together they would take the exposure past the budget.
    /// </summary>
    public void AdmitResend(IReadOnlyList<EgressPacket> packets)
    {
        long tokens = packets.Sum(p => p.Tokens);
        if (tokens == 0) return;
        if (_budget != null && _ledger != null)
        {
            long after = UsedTokens(_budget, _ledger) + tokens;
            if (after > _budget.TokensPerPeriod) throw new ExposureBudgetExceededException(_budget.Evaluate(after));
        }
        foreach (var packet in packets) Charge(packet);
    }

    /// <summary>Tokens charged this budget period, read from the ledger at most once a second.</summary>
    long UsedTokens(ExposureBudget budget, ExposureLedger ledger)
    {
        long now = Environment.TickCount64;
        if (_budgetRead == null || now - _budgetReadAt > 1000)
        {
            _budgetRead = budget.Evaluate(ledger, KeyId);
            (_budgetReadAt, _sentSinceRead) = (now, 0);
        }
        // Reserved but unsent tokens are charged in the ledger already; they are this guard's to send.
        return _budgetRead.UsedTokens + _sentSinceRead - (_reservation?.Left ?? 0);
    }

    /// <summary>Charges the ledger for a packet about to leave and shows it to the taps.</summary>
    void Charge(EgressPacket packet)
    {
        if (_ledger != null && _chargeBlock > 0) ChargeFromBlock(packet.Tokens, packet.Payload.LongLength);
        else
        {
            _ledger?.Charge(WorkspaceId, KeyId, packet.Tokens, packet.Payload.LongLength);
            _sentSinceRead += packet.Tokens;
        }
        IEgressTap[] taps;
        lock (_taps) taps = _taps.ToArray();
        foreach (var tap in taps) tap.Observe(packet);
    }

    /// <summary>Charges a send from the reserved block, reserving (durably) a new one first when it cannot cover it.</summary>
    void ChargeFromBlock(long tokens, long bytes)
    {
        lock (_charging)
        {
            if (_reservation?.TryConsume(tokens, bytes) == true) return;
            if (_reservation != null) { _sentSinceRead -= _reservation.Left; _reservation.Settle(); }
            long block = Math.Max(tokens, _chargeBlock);
            if (_budget != null && _budgetRead != null) // reserve no further than the budget reaches
                block = Math.Max(tokens, Math.Min(block, _budget.TokensPerPeriod - (_budgetRead.UsedTokens + _sentSinceRead)));
            _reservation = _ledger!.Reserve(WorkspaceId, KeyId, block, Math.Max(bytes, HiddenStateCodec.PayloadBytes(Dtype, block * _hidden)));
            _sentSinceRead += block;
            if (!_reservation.TryConsume(tokens, bytes)) throw new InvalidOperationException("a fresh reservation could not cover its send");
        }
    }

    /// <summary>Records the true count of the reserved block now (the status then shows exactly what was sent).</summary>
    public void Settle()
    {
        lock (_charging)
        {
            if (_reservation == null) return;
            long unsent = _reservation.Left;
            _reservation.Settle();
            _sentSinceRead -= unsent;
            _reservation = null;
        }
    }

    public void Dispose() => Settle();
}

/// <summary>A payload the egress guard refused to send.</summary>
public sealed class EgressRejectedException(string message) : Exception(message);
