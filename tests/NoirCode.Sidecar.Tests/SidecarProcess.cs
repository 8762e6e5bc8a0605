using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using StreamJsonRpc;

namespace NoirCode.Sidecar.Tests;

/// <summary>A real `noir lsp` process and a JSON-RPC client speaking LSP to it over stdio, collecting its notifications.</summary>
public sealed class SidecarProcess : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    public Process Process { get; }
    public JsonRpc Rpc { get; }
    public BlockingCollection<JsonElement> Statuses { get; } = new();
    public ConcurrentQueue<JsonElement> Progress { get; } = new();
    readonly string _root;

    public SidecarProcess(string root, IReadOnlyDictionary<string, string> environment)
    {
        _root = root;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "noir.dll"));
        psi.ArgumentList.Add("lsp");
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        Process = Process.Start(psi)!;
        Process.ErrorDataReceived += (_, _) => { };
        Process.BeginErrorReadLine();
        Rpc = new JsonRpc(new HeaderDelimitedMessageHandler(Process.StandardInput.BaseStream, Process.StandardOutput.BaseStream,
            new SystemTextJsonFormatter { JsonSerializerOptions = Json }));
        var onStatus = new Action<JsonElement>(s => Statuses.Add(s));
        Rpc.AddLocalRpcMethod(onStatus.Method, onStatus.Target, new JsonRpcMethodAttribute("noir/privacyStatus") { UseSingleObjectParameterDeserialization = true });
        var onProgress = new Action<JsonElement>(p => Progress.Enqueue(p));
        Rpc.AddLocalRpcMethod(onProgress.Method, onProgress.Target, new JsonRpcMethodAttribute("$/progress") { UseSingleObjectParameterDeserialization = true });
        Rpc.AddLocalRpcMethod("window/workDoneProgress/create", new Func<JsonElement, object?>(_ => null));
        Rpc.StartListening();
    }

    /// <returns>the server's capabilities</returns>
    public async Task<JsonElement> InitializeAsync(object initializationOptions)
    {
        var init = await Rpc.InvokeWithParameterObjectAsync<JsonElement>("initialize", new
        {
            processId = Environment.ProcessId, rootUri = new Uri(_root + "/").ToString(), capabilities = new { window = new { workDoneProgress = true } },
            initializationOptions,
        });
        await Rpc.NotifyWithParameterObjectAsync("initialized", new { });
        return init.GetProperty("capabilities");
    }

    public JsonElement WaitForStatus(Func<JsonElement, bool> match, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
            if (Statuses.TryTake(out var s, 500) && match(s)) return s;
        Assert.Fail("no matching noir/privacyStatus notification");
        return default;
    }

    public string Uri(string name) => new Uri(Path.Combine(_root, name)).ToString();

    public Task Open(string name, string text, string language = "python") =>
        Rpc.NotifyWithParameterObjectAsync("textDocument/didOpen", new { textDocument = new { uri = Uri(name), languageId = language, version = 1, text } });

    public Task<JsonElement> Complete(string name, int line, int character) =>
        Rpc.InvokeWithParameterObjectAsync<JsonElement>("textDocument/inlineCompletion",
            new { textDocument = new { uri = Uri(name) }, position = new { line, character }, context = new { triggerKind = 2 } });

    /// <summary>shutdown + exit, and the process must end by itself with code 0.</summary>
    public async Task ShutdownAsync()
    {
        await Rpc.InvokeWithParameterObjectAsync<object?>("shutdown", null);
        await Rpc.NotifyAsync("exit");
        Assert.That(Process.WaitForExit(15_000), Is.True, "the sidecar exits after shutdown and exit");
        Assert.That(Process.ExitCode, Is.Zero);
    }

    public ValueTask DisposeAsync()
    {
        if (!Process.HasExited) Process.Kill(true);
        Rpc.Dispose();
        Process.Dispose();
        return ValueTask.CompletedTask;
    }
}
