using StreamJsonRpc;

namespace NoirCode.Sidecar.Lsp;

/// <summary>
/// Work-done progress ($/progress) for long work such as loading the model, when the client supports it:
/// window/workDoneProgress/create, then begin, reports with a percentage, end.
/// </summary>
public sealed class LspProgress : Core.Util.IProgressSink
{
    readonly JsonRpc _rpc;
    readonly string _token = "noir-" + Guid.NewGuid().ToString("N")[..8];
    readonly bool _enabled;
    readonly string _title;
    bool _begun, _ended;
    int _lastPercent = -1;

    public LspProgress(JsonRpc rpc, bool clientSupportsIt, string title)
    {
        _rpc = rpc; _enabled = clientSupportsIt; _title = title;
    }

    public void Report(string stage, long done, long total, string? detail = null)
    {
        if (!_enabled || _ended) return;
        if (!_begun)
        {
            _begun = true;
            try { _rpc.InvokeWithParameterObjectAsync<object?>("window/workDoneProgress/create", new { token = _token }).Wait(TimeSpan.FromSeconds(5)); }
            catch (Exception) { }
            Send(new { kind = "begin", title = _title, message = stage, percentage = 0, cancellable = false });
        }
        int percent = total > 0 ? (int)(100 * done / total) : 0;
        if (percent == _lastPercent) return;
        _lastPercent = percent;
        Send(new { kind = "report", message = stage, percentage = percent });
    }

    public void Done(string stage) { }

    public void End()
    {
        if (!_begun || _ended) return;
        _ended = true;
        Send(new { kind = "end" });
    }

    void Send(object value) => _ = _rpc.NotifyWithParameterObjectAsync("$/progress", new { token = _token, value });
}
