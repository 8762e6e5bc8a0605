using System.CommandLine;
using NoirCode.Attack.Evaluation;
using NoirCode.Privacy.Egress;
using NoirCode.Remote;
using NoirCode.Sidecar;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir lsp</c>: the sidecar as a language server on stdin/stdout, for any LSP client.</summary>
public static class LspCommand
{
    public static Command Create()
    {
        var cmd = new Command("lsp", "Run the sidecar language server over stdio (settings come from initializationOptions)");
        cmd.SetAction(async (_, cancel) =>
        {
            CoreDumps.Disable();
            EmbeddedEndpoint? embedded = null;
            ModelRuntime Factory(SidecarSettings s, Core.Util.IProgressSink progress)
            {
                string model = s.ModelFolder ?? BundledModel() ?? throw new ArgumentException("no model configured (noir.modelFolder) and no bundled model found");
                var wire = ModelRuntimeOptions.ParseWire(s.Wire);
                if (s.Mode == "local") return ModelRuntime.Create(new RuntimeSpec { ModelFolder = model, Local = true, Progress = progress });
                if (s.Endpoints is { Length: > 0 } endpoints)
                    return WithMeasuredBudget(ModelRuntime.Create(new RuntimeSpec
                    {
                        ModelFolder = model, Endpoints = EndpointClientOptions.ParseList(string.Join(",", endpoints)),
                        ApiKey = s.ApiKey ?? ApiKeySource.Resolve(null), KeysFolder = s.KeysFolder, Wire = wire, Progress = progress, Interactive = true,
                        AllowCleartext = s.AllowCleartextEndpoint, AllowUnprotected = s.AllowUnprotectedEndpoint,
                    }) with { PublicModelFolder = PublicModelFor(model, s) }, demoBundle: null);
                embedded?.Dispose();
                // A client shard (e.g. one re-keyed by a rotation of the demo set-up) runs against the public model
                // it was split from.
                string whole = IsClientShard(model)
                    ? PublicModelFor(model, s) ?? throw new ArgumentException($"{model} is a client shard: give an endpoint, or keep the bundled model it was split from")
                    : model;
                // The demo bundle's endpoint state holds its LoRA and, named per key, the adapters of keys rotated from
                // it; without keys of the user's own, the demo bundle (public demo keys, a client tuned with them) runs.
                var bundle = DemoBundle.Find(whole)?.Install(EmbeddedEndpoint.CacheFolder());
                var demo = s.KeysFolder == null ? bundle : null;
                embedded = EmbeddedEndpoint.Start(whole, stateFolder: bundle?.EndpointStateFolder);
                var runtime = ModelRuntime.Create(new RuntimeSpec
                {
                    ModelFolder = demo?.ClientFolder ?? (IsClientShard(model) ? model : embedded.ClientFolder), Endpoints = new[] { embedded.Address }, ApiKey = embedded.ApiKey,
                    KeysFolder = demo?.KeysFolder ?? s.KeysFolder, Wire = wire, Progress = progress, Interactive = true,
                });
                return WithMeasuredBudget(runtime with { Mode = runtime.Mode.Replace($"via {embedded.Address}", "via the local demo endpoint"), PublicModelFolder = whole },
                    demoBundle: Path.Combine(whole, DemoBundle.FolderName));
            }
            // The whole model the user named for what must not leave this machine (localModelFolder), if any.
            ModelRuntime? Local(SidecarSettings s)
            {
                if (s.LocalModelFolder is not { } model) return null;
                if (IsClientShard(model))
                    throw new ArgumentException($"localModelFolder {model} is a client shard; it needs the whole model");
                return ModelRuntime.Create(new RuntimeSpec { ModelFolder = model, Local = true });
            }
            using var security = new PromptSecurityService();
            using var server = new NoirLanguageServer(Console.OpenStandardInput(), Console.OpenStandardOutput(), Factory, Local, (r, _) => SecurityReport(security, r));
            server.Start();
            try { await server.Exited.WaitAsync(cancel); } catch (OperationCanceledException) { }
            embedded?.Dispose();
            return 0;
        });
        return cmd;
    }

    /// <summary>The default budget measured for these keys (exposure-budget.json of the demo bundle, the keys or the model).</summary>
    static ModelRuntime WithMeasuredBudget(ModelRuntime runtime, string? demoBundle) => runtime.Keys is not { } keys ? runtime : runtime with
    {
        MeasuredBudget = Privacy.Ledger.MeasuredBudget.ForKeys(keys, demoBundle ?? (keys.Demo && runtime.KeysFolder != null ? Path.GetDirectoryName(Path.GetFullPath(runtime.KeysFolder).TrimEnd('/')) : null),
            runtime.KeysFolder, runtime.ModelFolder, runtime.PublicModelFolder),
    };

    static bool IsClientShard(string folder) => Core.Model.ShardManifest.TryLoad(folder) is { Role: Core.Model.ShardManifest.ClientRole };

    /// <summary>The public model an attacker is assumed to hold, for the security report: the named local model, the
    /// model itself when it is whole, or the bundled model when the client shard was split from it.</summary>
    static string? PublicModelFor(string model, SidecarSettings s)
    {
        if (s.LocalModelFolder != null) return s.LocalModelFolder;
        if (!IsClientShard(model)) return model;
        return BundledModel() is { } bundled && Core.Model.ModelFingerprint.Of(bundled) == Core.Model.ModelFingerprint.Of(model) ? bundled : null;
    }

    /// <summary>The privacy panel's per-prompt report: the attack harness's outcomes in the language server's terms.</summary>
    static PromptSecurityResult SecurityReport(PromptSecurityService security, PromptSecurityRequest r)
    {
        var outcomes = security.Run(r.PublicModelFolder, r.ClientFolder, r.KeysFolder, r.Prompt);
        var keys = r.KeysFolder == null ? null : Privacy.Keys.PrivacyKeys.ReadMetadata(r.KeysFolder);
        string setting = keys == null ? "no privacy keys (ε = ∞): the hidden states come from the public embedding"
            : keys.Demo ? $"demo keys {keys.KeyId}, ε = {keys.Epsilon}: the keys are public: the cloud wins (it can undo them; the attacks below assume it does not)"
            : $"keys {keys.KeyId}, ε = {keys.Epsilon}";
        // Public keys protect nothing: whatever the attacks below recover without them, the cloud that has them wins.
        bool cloudWins = keys?.Demo == true || outcomes.Any(o => o.Score.Win);
        return new PromptSecurityResult(outcomes[0].Score.Tokens, cloudWins, setting, outcomes.Select(o => new PromptAttackRow(
            o.Attack, Math.Round(o.Score.Crt, 4), Math.Round(o.Score.ContentCrt, 4), Math.Round(o.Score.Bleu, 2), Math.Round(o.Score.Rouge1, 4), o.Score.Win,
            o.SensitiveItems, o.SensitiveRecovered, o.Reconstruction.Length > 2000 ? o.Reconstruction[..2000] : o.Reconstruction)).ToArray(), keys?.Demo == true);
    }

    /// <summary>The bundled model: models/*/ beside the repository the binary was built from.</summary>
    static string? BundledModel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string models = Path.Combine(dir.FullName, "models");
            if (Directory.Exists(models))
                return Directory.GetDirectories(models).Order().FirstOrDefault(d => File.Exists(Path.Combine(d, "config.json")));
        }
        return null;
    }
}
