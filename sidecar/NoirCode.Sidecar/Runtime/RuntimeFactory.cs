using NoirCode.Privacy.Egress;
using NoirCode.Protocol;
using NoirCode.Remote;
using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Runtime;

/// <summary>
/// The runtimes of <c>noir lsp</c>: the whole model here (local mode), the client here and the middle on the
/// configured endpoints, or by default the middle on an endpoint process this sidecar starts on loopback (the
/// embedded endpoint), which belongs to the runtime it serves and is stopped with it.
/// </summary>
public sealed class RuntimeFactory : IRuntimeFactory
{
    public LoadedRuntime Load(SidecarSettings s, Core.Util.IProgressSink progress)
    {
        string model = s.ModelFolder ?? BundledModel() ?? throw new ArgumentException("no model configured (noir.modelFolder) and no bundled model found");
        var wire = WireNames.Parse(s.Wire);
        if (s.Mode == RuntimeMode.Local)
            return new LoadedRuntime(ModelRuntime.Create(new RuntimeSpec { ModelFolder = model, Local = true, Progress = progress }), RuntimeMode.Local, s);
        if (s.Endpoints is { Length: > 0 } endpoints)
        {
            var remote = ModelRuntime.Create(new RuntimeSpec
            {
                ModelFolder = model, Endpoints = EndpointClientOptions.ParseList(string.Join(",", endpoints)),
                ApiKey = s.ApiKey ?? ApiKeySource.Resolve(null), KeysFolder = s.KeysFolder, Wire = wire, Progress = progress, Interactive = true,
                AllowCleartext = s.AllowCleartextEndpoint, AllowUnprotected = s.AllowUnprotectedEndpoint,
            });
            return new LoadedRuntime(WithMeasuredBudget(remote with { PublicModelFolder = PublicModelFor(model, s) }, demoBundle: null), RuntimeMode.Split, s);
        }
        return Embedded(model, wire, s, progress);
    }

    /// <summary>The default: the middle blocks on an endpoint process of this sidecar's own, on loopback.</summary>
    static LoadedRuntime Embedded(string model, WireDtype wire, SidecarSettings s, Core.Util.IProgressSink progress)
    {
        // A client shard (e.g. one re-keyed by a rotation of the demo set-up) runs against the public model it was split from.
        string whole = IsClientShard(model)
            ? PublicModelFor(model, s) ?? throw new ArgumentException($"{model} is a client shard: give an endpoint, or keep the bundled model it was split from")
            : model;
        // The demo bundle's endpoint state holds its LoRA and, named per key, the adapters of keys rotated from it;
        // without keys of the user's own, the demo bundle (public demo keys, a client tuned with them) runs.
        var bundle = DemoBundle.Find(whole)?.Install(EmbeddedEndpoint.CacheFolder(), withKeys: s.KeysFolder == null);
        var demo = s.KeysFolder == null ? bundle : null;
        var embedded = EmbeddedEndpoint.Start(whole, stateFolder: bundle?.EndpointStateFolder);
        try
        {
            var runtime = ModelRuntime.Create(new RuntimeSpec
            {
                ModelFolder = demo?.ClientFolder ?? (IsClientShard(model) ? model : embedded.ClientFolder), Endpoints = new[] { embedded.Address }, ApiKey = embedded.ApiKey,
                KeysFolder = demo?.KeysFolder ?? s.KeysFolder, Wire = wire, Progress = progress, Interactive = true,
            });
            runtime = WithMeasuredBudget(runtime with { Mode = runtime.Mode.Replace($"via {embedded.Address}", "via the local demo endpoint"), PublicModelFolder = whole },
                demoBundle: Path.Combine(whole, DemoBundle.FolderName));
            return new LoadedRuntime(runtime, RuntimeMode.Split, s, endpoint: embedded);
        }
        catch
        {
            embedded.Dispose(); // a runtime that failed to load leaves no endpoint behind
            throw;
        }
    }

    public LoadedRuntime? LoadWholeModel(SidecarSettings s)
    {
        if (s.LocalModelFolder is not { } model) return null;
        if (IsClientShard(model)) throw new ArgumentException($"localModelFolder {model} is a client shard; it needs the whole model");
        return new LoadedRuntime(ModelRuntime.Create(new RuntimeSpec { ModelFolder = model, Local = true }), RuntimeMode.Local, s);
    }

    /// <summary>The default budget measured for these keys (exposure-budget.json of the demo bundle, the keys or the model).</summary>
    static ModelRuntime WithMeasuredBudget(ModelRuntime runtime, string? demoBundle) => runtime.Keys is not { } keys ? runtime : runtime with
    {
        MeasuredBudget = Privacy.Ledger.MeasuredBudget.ForKeys(keys, demoBundle ?? (keys.Demo && runtime.KeysFolder != null ? Path.GetDirectoryName(Path.GetFullPath(runtime.KeysFolder).TrimEnd('/')) : null),
            runtime.KeysFolder, runtime.ModelFolder, runtime.PublicModelFolder),
    };

    static bool IsClientShard(string folder) => Core.Split.ShardManifest.TryLoad(folder) is { Role: Core.Split.ShardManifest.ClientRole };

    /// <summary>The public model an attacker is assumed to hold, for the security report: the named local model, the
    /// model itself when it is whole, or the bundled model when the client shard was split from it.</summary>
    static string? PublicModelFor(string model, SidecarSettings s)
    {
        if (s.LocalModelFolder != null) return s.LocalModelFolder;
        if (!IsClientShard(model)) return model;
        return BundledModel() is { } bundled && Core.Model.ModelFingerprint.Of(bundled) == Core.Model.ModelFingerprint.Of(model) ? bundled : null;
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
