namespace NoirCode.Endpoint;

public enum WorkerTurnKind { Decode, Job }

/// <summary>
/// One piece of work the model worker queues or starts: a tenant's decode step, or one slice of a job (a prefill
/// runs as several slices). What the worker's observers see; it names no session and holds no data.
/// </summary>
public sealed record WorkerTurn(string Tenant, WorkerTurnKind Kind, int Slice, int Slices);
