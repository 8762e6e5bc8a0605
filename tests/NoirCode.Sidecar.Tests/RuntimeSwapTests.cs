using System.Text.Json;
using NoirCode.Sidecar.Runtime;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// A settings change that reloads the model while a completion is being decoded: the request finishes on the
/// runtime it started with, which is disposed only after it, and the next request runs on the new one.
/// </summary>
public class RuntimeSwapTests
{
    TempModel _temp = null!;
    string _root = "", _model = "";

    [OneTimeSetUp]
    public void Model()
    {
        _temp = new TempModel("noir-swap-tests-", seed: 3);
        (_root, _model) = (_temp.Root, _temp.Folder);
    }

    [OneTimeTearDown]
    public void Clean() => _temp.Dispose();

    const string Code = "def add(a, b):\n    return ";

    [Test]
    public async Task AReloadMidRequestLetsTheRequestFinishOnItsRuntimeAndDisposesItAfter()
    {
        HeldSession? held = null;
        int loads = 0;
        var secondLoad = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new InProcessServer(_root, settings =>
        {
            if (Interlocked.Increment(ref loads) == 1) return InProcessServer.LocalRuntime(_model, settings, s => held = new HeldSession(s));
            secondLoad.TrySetResult();
            return InProcessServer.LocalRuntime(_model, settings);
        });
        await server.InitializeAsync(new { modelFolder = _model, mode = "local" });
        server.WaitForStatus(s => s.GetProperty("mode").GetString() == "local");
        await server.Open("a.py", Code);
        try
        {
            var request = server.Complete("a.py", 1, 11, triggerKind: 1);
            await held!.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await server.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { modelFolder = _model, mode = "local", wire = "f32" } } });
            await secondLoad.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await Task.Delay(300); // time for a swap to dispose what it replaced
            Assert.That(held.Disposed, Is.False, "the runtime a request holds is not disposed under it");
            held.Release();
            JsonElement result = default;
            Assert.DoesNotThrowAsync(async () => result = await request.WaitAsync(TimeSpan.FromSeconds(30)), "the request finishes on its runtime");
            Assert.That(result.GetProperty("items").ValueKind, Is.EqualTo(JsonValueKind.Array));
            for (int i = 0; i < 100 && !held.Disposed; i++) await Task.Delay(50);
            Assert.That(held.Disposed, Is.True, "the replaced runtime is disposed once its last request is done");
            var next = await server.Complete("a.py", 1, 11, triggerKind: 1);
            Assert.That(next.GetProperty("items").ValueKind, Is.EqualTo(JsonValueKind.Array), "the next request runs on the new runtime");
        }
        finally { held?.Release(); }
    }

    [Test]
    public async Task ALoadOvertakenByANewerReloadIsDroppedNotSwappedIn()
    {
        HeldSession? stale = null, fresh = null;
        int loads = 0;
        using var firstMayFinish = new ManualResetEventSlim();
        await using var server = new InProcessServer(_root, settings =>
        {
            if (Interlocked.Increment(ref loads) == 1)
            {
                var runtime = InProcessServer.LocalRuntime(_model, settings, s => stale = new HeldSession(s));
                firstMayFinish.Wait(TimeSpan.FromSeconds(30));
                return runtime;
            }
            return InProcessServer.LocalRuntime(_model, settings, s => fresh = new HeldSession(s));
        });
        await server.InitializeAsync(new { modelFolder = _model, mode = "local" });
        for (int i = 0; i < 200 && stale == null; i++) await Task.Delay(50);
        await server.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { noircode = new { modelFolder = _model, mode = "local", wire = "f32" } } });
        await Task.Delay(200);
        firstMayFinish.Set();
        for (int i = 0; i < 200 && fresh == null; i++) await Task.Delay(50);
        Assert.That(fresh, Is.Not.Null, "the newer settings' runtime loads after the overtaken one");
        for (int i = 0; i < 100 && !stale!.Disposed; i++) await Task.Delay(50);
        Assert.That(stale!.Disposed, Is.True, "the overtaken runtime is dropped");
        fresh!.Release();
        await server.Open("a.py", Code);
        await server.Complete("a.py", 1, 11, triggerKind: 1);
        Assert.That(fresh.Entered.Task.IsCompleted, Is.True, "requests run on the newer runtime");
        Assert.That(loads, Is.EqualTo(2));
    }

    sealed class Endpoint : IDisposable { public bool Stopped; public void Dispose() => Stopped = true; }

    [Test]
    public void ASwappedOutRuntimeGoesWithItsEndpointWhenItsLastLeaseEnds()
    {
        var settings = new NoirCode.Sidecar.Lsp.SidecarSettings();
        var endpoint = new Endpoint();
        var first = new LoadedRuntime(InProcessServer.LocalModel(_model), RuntimeMode.Split, settings, endpoint);
        var slot = new RuntimeSlot();
        slot.Swap(first);
        var a = slot.Acquire()!;
        var b = slot.Acquire()!;
        Assert.That(a.Runtime, Is.SameAs(first));
        var second = InProcessServer.LocalRuntime(_model, settings);
        slot.Swap(second);
        Assert.That(first.Retired.IsCancellationRequested, Is.True, "work on its behalf stops");
        using (var c = slot.Acquire()) Assert.That(c!.Runtime, Is.SameAs(second), "new requests get the new runtime");
        a.Dispose();
        a.Dispose(); // a lease released twice counts once
        Assert.That(endpoint.Stopped, Is.False, "one request still holds it");
        b.Dispose();
        Assert.That(endpoint.Stopped, Is.True, "the endpoint goes with the runtime it served");
        slot.Dispose();
        Assert.That(slot.Acquire(), Is.Null);
        Assert.That(second.Retired.IsCancellationRequested, Is.True);
    }
}
