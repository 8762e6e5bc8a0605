using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Util;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.STuning.LabelProtection;
using NoirCode.Sidecar;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir tune</c>: STuning, split fine-tuning that restores utility under the privacy keys.</summary>
public static class TuneCommand
{
    static readonly string[] CodeExtensions = { ".py" };

    public static Command Create()
    {
        var model = CommonOptions.Model("the model (whole, or client shard), or a tuned shard to continue");
        var keys = new Option<string>("--keys") { Description = "privacy keys (noir keygen) to tune under", Required = true };
        var endpoint = new Option<string>("--endpoint") { Description = "the endpoint that trains your tenant's LoRA on the middle blocks", Required = true };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "owner-only file holding the endpoint API key (default: $NOIR_API_KEY)" };
        var allowCleartext = new Option<bool>("--allow-cleartext") { Description = "allow an http:// endpoint on another machine (the API key is never sent over it)" };
        var data = new Option<string>("--data") { Description = "folder of your code to tune on (*.py)", Required = true };
        var output = new Option<string>("--out") { Description = "folder for the tuned client shard (owner-only; checkpoints go here too)", Required = true };
        var split = CommonOptions.Split();
        var epochs = new Option<double>("--epochs") { Description = "passes over the data", DefaultValueFactory = _ => 1 };
        var steps = new Option<int?>("--steps") { Description = "optimiser steps (overrides --epochs)" };
        var batch = new Option<int>("--batch") { Description = "samples per step (per-sample gradients averaged)", DefaultValueFactory = _ => 8 };
        var seq = new Option<int>("--seq") { Description = "tokens per sample", DefaultValueFactory = _ => 256 };
        var lr = new Option<double>("--lr") { Description = "client learning rate", DefaultValueFactory = _ => 5e-4 };
        var cloudLr = new Option<double>("--cloud-lr") { Description = "the endpoint LoRA's learning rate (0: the endpoint's default)", DefaultValueFactory = _ => 0 };
        var protection = new Option<string>("--label-protection")
        {
            Description = "what the boundary gradient hides of your labels: default (forward-only: no label's gradient leaves; the encoder and the endpoint's LoRA do not train), none (the exact gradient: the endpoint can solve every label), or keep=K,noise=S (docs/privacy.md §9.3)",
            DefaultValueFactory = _ => "default",
        };
        var teacher = new Option<string?>("--teacher") { Description = "the whole public model the keys were made for, run here as a teacher: the client also learns its next-token distribution (forward-only tuning only; nothing of it leaves)" };
        var distillWeight = new Option<double>("--distill-weight") { Description = "with --teacher: the teacher's share of the loss, in (0, 1]", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<int?>("--seed") { Description = "the sampler's seed (default: a fresh one, kept in the checkpoint for a resumed run; two keys tuned on the same data in the same order would hand the cloud their streams aligned)" };
        var budget = new Option<long?>("--budget") { Description = "stop before the key's exposure (inference and tuning, its whole life) passes this many tokens" };
        var json = CommonOptions.Json();
        var cmd = new Command("tune", "Split fine-tuning under privacy keys (STuning); resumes from --out if it holds a checkpoint")
            { model, keys, endpoint, apiKeyFile, allowCleartext, data, output, split, epochs, steps, batch, seq, lr, cloudLr, budget, protection, teacher, distillWeight, seed, json, TuneImportCommand.Create(), TuneRekeyCommand.Create() };
        cmd.SetAction(r =>
        {
            string outDir = r.GetValue(output)!, dataDir = r.GetValue(data)!;
            var labelProtection = LabelProtectionSettings.Parse(r.GetValue(protection)!); // before anything loads: bad input fails fast
            if (r.GetValue(teacher) is not null)
            {
                TeacherDistillation.RequireForwardOnly(labelProtection);
                if (!TeacherDistillation.IsWeight(r.GetValue(distillWeight))) throw new ArgumentException("--distill-weight is in (0, 1]");
            }
            bool resume = File.Exists(Path.Combine(outDir, "tuning_state.json"));
            string source = resume ? outDir : r.GetValue(model)!;
            if (!Directory.Exists(dataDir)) throw new IOException($"data folder {dataDir} does not exist");
            var docs = Directory.EnumerateFiles(dataDir, "*", SearchOption.AllDirectories)
                .Where(f => CodeExtensions.Contains(Path.GetExtension(f))).Select(File.ReadAllText).Where(t => t.Length > 0).ToList();
            if (docs.Count == 0) throw new ArgumentException($"no code files ({string.Join(", ", CodeExtensions)}) in {dataDir}");

            var progress = CommonOptions.Progress();
            var client = ClientModel.Load(source, CommonOptions.ParseSplit(r.GetValue(split)), new LoadOptions { Progress = progress }, untieHead: true);
            string fingerprint = ModelFingerprint.Of(source);
            var privacyKeys = PrivacyKeys.Load(r.GetValue(keys)!, fingerprint);
            privacyKeys.ApplyTo(client);
            // Tuning traffic is charged to the key like inference: the same cipher carries it (and, with --budget,
            // the same exact check stops it at the limit, before the step that would pass it is sent).
            string ledgerFolder = ExposureLedger.DefaultFolder();
            var guard = new EgressGuard(client.Config.HiddenSize, WireDtype.Float32, new ExposureLedger(ledgerFolder),
                WorkspaceIds.For(ledgerFolder, dataDir), privacyKeys.Metadata.KeyId,
                r.GetValue(budget) is long limit ? new ExposureBudget(limit, BudgetPeriod.Key) : null);
            var options = new EndpointClientOptions
            {
                Endpoints = EndpointClientOptions.ParseList(r.GetValue(endpoint)!), ApiKey = ApiKeySource.Resolve(r.GetValue(apiKeyFile)), AllowCleartext = r.GetValue(allowCleartext),
                AdapterId = TenantAdapterId.ForClient(source, privacyKeys.Metadata), // new keys: a fresh adapter on the endpoint
            };
            options.Validate();
            RemoteProtection.Check(options.Endpoints, privacyKeys.Metadata, allowUnprotected: false);
            using var remote = new RemoteTrainingSession(options, guard, fingerprint, client.Config.HiddenSize, r.GetValue(cloudLr));

            long chars = docs.Sum(d => (long)d.Length);
            int totalSteps = r.GetValue(steps) ?? Math.Max(1, (int)(r.GetValue(epochs) * chars / 3.5 / (r.GetValue(batch) * r.GetValue(seq))));
            int samplerSeed = r.GetValue(seed) ?? (resume ? SplitFineTuner.SavedSeed(outDir) : System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, 1 << 20));
            var settings = new TuneSettings(totalSteps, r.GetValue(batch), r.GetValue(seq), r.GetValue(lr), samplerSeed)
            {
                LabelProtection = labelProtection,
            };
            // The tuned shard is written from the original model's files; a resumed run takes them from itself.
            using var distillation = r.GetValue(teacher) is { } teacherFolder ? Teacher(teacherFolder, privacyKeys, r.GetValue(distillWeight), progress) : null;
            var tuner = new SplitFineTuner(client, privacyKeys, remote, outDir, distillation);
            var losses = tuner.Run(docs, settings, progress, source);
            var o = new JsonObject
            {
                ["out"] = Path.GetFullPath(outDir), ["key_id"] = privacyKeys.Metadata.KeyId, ["adapter_id"] = options.AdapterId, ["steps"] = totalSteps,
                ["key_tokens_sent"] = new ExposureLedger(ledgerFolder).Sum(k => k.Key == privacyKeys.Metadata.KeyId).Tokens,
                ["first_loss"] = losses.FirstOrDefault(), ["last_loss"] = losses.LastOrDefault(), ["documents"] = docs.Count,
                ["label_protection"] = settings.LabelProtection.Name, ["seed"] = settings.Seed,
                ["distill_weight"] = distillation?.Weight ?? 0,
                ["first_teacher_divergence"] = tuner.TeacherDivergences.FirstOrDefault(), ["last_teacher_divergence"] = tuner.TeacherDivergences.LastOrDefault(),
            };
            if (r.GetValue(json)) CliJson.Print(o); else CliJson.PrintTable(o);
            return 0;
        });
        return cmd;
    }

    /// <summary>The teacher: the whole model these keys were made for (another model's distribution would teach
    /// another vocabulary's order).</summary>
    static TeacherDistillation Teacher(string folder, PrivacyKeys keys, double weight, IProgressSink progress)
    {
        if (ModelFingerprint.Of(folder) != keys.Metadata.ModelFingerprint)
            throw new ArgumentException($"--teacher {folder} is not the model these keys were made for");
        return new TeacherDistillation(CausalLM.Load(folder, new LoadOptions { Progress = progress }), keys.Mapping(), weight);
    }
}
