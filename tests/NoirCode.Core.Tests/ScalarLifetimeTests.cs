using NoirCode.Core.Model;
using NoirCode.Core.Training;
using static TorchSharp.torch;

namespace NoirCode.Core.Tests;

/// <summary>
/// Regression: `noir tune` died after about 100 steps with libtorch's "Unknown scalar type" in add(Tensor, Scalar).
/// TorchSharp passes a Scalar's handle to native code without keeping the Scalar alive, so an implicit one
/// (`tensor + 1e-5`) can be finalized by a garbage collection while libtorch still reads it. The model code now
/// makes its scalars explicitly and disposes them after the call. Here collections run back to back while the
/// layers that took scalar operands run many times: on the old code this crashed the process.
/// </summary>
public class ScalarLifetimeTests
{
    [Test]
    public void ScalarOperandsSurviveGarbageCollectionsDuringNativeCalls()
    {
        var norm = new RmsNorm(ones(64), 1e-5);
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() => { while (!stop.IsCancellationRequested) { GC.Collect(); GC.WaitForPendingFinalizers(); } });
        double sum = 0;
        for (int i = 0; i < 20_000; i++)
        {
            using var scope = NewDisposeScope();
            sum += norm.forward(ones(2, 64)).sum().item<float>();
        }
        stop.Cancel();
        collector.Wait();
        Assert.That(sum, Is.EqualTo(20_000 * 128).Within(1e-2 * 20_000), "RMS-normalised ones are ones");
    }

    [Test]
    public void TheOptimiserStepSurvivesGarbageCollections()
    {
        // TorchSharp's own AdamW failed this within seconds ("Scalar::toFloat"); noir tune, the endpoint and noir-train
        // now use Core.Training.AdamW.
        var w = new TorchSharp.Modules.Parameter(ones(64, 64));
        var optimizer = new AdamW(new[] { w }, 1e-3, weightDecay: 0.01);
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() => { while (!stop.IsCancellationRequested) { GC.Collect(); GC.WaitForPendingFinalizers(); } });
        for (int i = 0; i < 3_000; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (w * w).sum().backward();
            optimizer.step();
        }
        stop.Cancel();
        collector.Wait();
        Assert.That(w.mean().item<float>(), Is.LessThan(1f), "the steps moved the weights");
    }

    [Test]
    public void OurAdamWMatchesTorchSharpsUpdateRule()
    {
        manual_seed(7);
        var start = randn(8, 8);
        var ours = new TorchSharp.Modules.Parameter(start.clone());
        var theirs = new TorchSharp.Modules.Parameter(start.clone());
        var a = new AdamW(new[] { ours }, 1e-2, beta1: 0.9, beta2: 0.95, weightDecay: 0.1);
        var b = optim.AdamW(new[] { theirs }, 1e-2, beta1: 0.9, beta2: 0.95, weight_decay: 0.1);
        using var target = randn(8, 8);
        for (int i = 0; i < 6; i++)
        {
            a.zero_grad(); b.zero_grad();
            ((ours - target).pow(2).sum() + ours.abs().sum()).backward();
            ((theirs - target).pow(2).sum() + theirs.abs().sum()).backward();
            a.step(); b.step();
        }
        Assert.That((ours - theirs).abs().max().item<float>(), Is.LessThan(1e-6f));
        Assert.That((ours - start).abs().max().item<float>(), Is.GreaterThan(1e-3f), "the weights moved");

        // Saved and loaded moments continue the same trajectory.
        string path = Path.Combine(Path.GetTempPath(), $"noir-adamw-{Guid.NewGuid():N}.bin");
        a.Save(path);
        var resumed = new AdamW(new[] { ours }, 1e-2, beta1: 0.9, beta2: 0.95, weightDecay: 0.1);
        resumed.Load(path);
        File.Delete(path);
        Assert.That(resumed.Steps, Is.EqualTo(6));
        resumed.zero_grad(); b.zero_grad();
        ((ours - target).pow(2).sum()).backward();
        ((theirs - target).pow(2).sum()).backward();
        resumed.step(); b.step();
        Assert.That((ours - theirs).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void VerificationStepsSurviveGarbageCollections()
    {
        // Speculative decoding runs a multi-token step after a cache (a causal mask offset by the cache's length) and
        // rolls it back, many times per suggestion: the mask's offset was an implicit scalar that crashed a benchmark.
        using var model = CausalLM.Load(TestModels.Get());
        using var session = new Generation.LocalSession(model);
        session.Append(new[] { 1, 2, 3, 4 });
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() => { while (!stop.IsCancellationRequested) { GC.Collect(); GC.WaitForPendingFinalizers(); } });
        int rows = 0;
        for (int i = 0; i < 2_000; i++)
        {
            rows += session.AppendEach(new[] { 5, 6, 7 }).Length;
            session.Truncate(4);
        }
        stop.Cancel();
        collector.Wait();
        Assert.That(rows, Is.EqualTo(6_000));
    }
}
