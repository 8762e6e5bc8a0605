using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Attack.Data;
using NoirCode.Attack.Decipherment;
using NoirCode.Attack.Evaluation;
using NoirCode.Attack.Report;
using NoirCode.Attack.Volume;
using NoirCode.Attack.Wire;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Endpoint;
using NoirCode.Privacy.Egress;
using NoirCode.Privacy.Keys;
using NoirCode.Remote;
using NoirCode.STuning.LabelProtection;
using static TorchSharp.torch;
using NoirCode.Protocol;
using NoirCode.STuning;

namespace NoirCode.Cli.Commands;

/// <summary>
/// <c>noir attack stuning</c>: runs the real STuning client under keys against a real endpoint on loopback, captures
/// what the endpoint holds (middle outputs, boundary gradients at the egress guard), and measures per step how
/// many labels the gradient attack recovers, then deciphers the recovered label stream.
/// </summary>
public static class StuningAttackCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("the public model (whole model folder)");
        var keysDir = new Option<string?>("--keys") { Description = "privacy keys to tune under (default: fresh keys at --epsilon, in memory)" };
        var epsilon = new Option<double>("--epsilon") { Description = "ε of fresh keys", DefaultValueFactory = _ => 13 };
        var data = new Option<string>("--data") { Description = "folder of .py files the user tunes on (their private code)", Required = true };
        var publicDirs = new Option<string?>("--public") { Description = "comma-separated folders of public .py code for the decipherer's language model (default: the python3 stdlib)" };
        var steps = new Option<int>("--steps") { Description = "tuning steps", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "samples per step", DefaultValueFactory = _ => 2 };
        var seq = new Option<int>("--seq") { Description = "tokens per sample", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "client learning rate (noir tune's default)", DefaultValueFactory = _ => 5e-4 };
        var setting = new Option<string?>("--setting") { Description = "the report setting these figures belong to (default: as the volume attack names these keys: demo, demo-kK, epsN-untuned or epsN-kK-untuned)" };
        var report = new Option<string?>("--report") { Description = "a privacy report (.json) to add stuning_labels to" };
        var protection = new Option<string>("--protection") { Description = "label protection of the tuner: none, default (noir tune's) or keep=K,noise=S", DefaultValueFactory = _ => "default" };
        var withClient = new Option<bool>("--client-decoder") { Description = "also attack with the client's own decoder of every step (more than a cloud knows; costs one more attack per sample)" };
        var noDecipher = new Option<bool>("--no-decipher") { Description = "skip deciphering the recovered label stream" };
        var split = CommonOptions.Split();
        var json = CommonOptions.Json();
        var cmd = new Command("stuning", "The gradient attack on STuning: labels recovered per step through a real tuner and endpoint, then deciphered")
            { model, keysDir, epsilon, data, publicDirs, steps, batch, seq, lr, setting, report, protection, withClient, noDecipher, split, json };
        cmd.SetAction(async r =>
        {
            string publicModel = r.GetValue(model)!;
            var progress = CommonOptions.Progress();
            var docs = Directory.EnumerateFiles(r.GetValue(data)!, "*.py", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(File.ReadAllText).Where(t => t.Length > 0).ToList();
            if (docs.Count == 0) throw new ArgumentException($"no .py files in {r.GetValue(data)}");
            string work = Directory.CreateTempSubdirectory("noir-stuning-attack-").FullName;
            try
            {
                string client = Path.Combine(work, "client"), cloud = Path.Combine(work, "cloud");
                ModelSplitter.Split(publicModel, client, cloud, CommonOptions.ParseSplit(r.GetValue(split)));
                var config = ModelConfig.Load(client);
                string fingerprint = ModelFingerprint.Of(client);
                PrivacyKeys keys;
                if (r.GetValue(keysDir) is { } k) keys = PrivacyKeys.Load(k, fingerprint);
                else
                {
                    var (embedding, dtype) = PrivacyKeys.ReadEmbedding(publicModel, config);
                    keys = PrivacyKeys.Generate(embedding, config, fingerprint, r.GetValue(epsilon), label: "attack-harness", tableDtype: dtype).Keys;
                }
                var defence = LabelProtectionSettings.Parse(r.GetValue(protection)!);
                // Named as the volume attack names the same keys, so both land in one setting (demo keys count as tuned).
                string name = r.GetValue(setting) ?? AttackCommand.SettingName(keys.Metadata, tuned: keys.Metadata.Demo) + (defence.Enabled ? "" : "-undefended");
                var settings = new TuneSettings(r.GetValue(steps), r.GetValue(batch), r.GetValue(seq), r.GetValue(lr)) { LabelProtection = defence };

                await using var host = await EndpointHost.StartAsync(new EndpointOptions { ShardFolder = cloud, Port = 0 }, logging: _ => { });
                using var tuned = ClientModel.Load(client, untieHead: true);
                keys.ApplyTo(tuned);
                var guard = new EgressGuard(config.HiddenSize, WireDtype.Float32);
                var options = new EndpointClientOptions { Endpoints = new[] { host.Address } };
                using var remote = new RemoteTrainingSession(options, guard, fingerprint, config.HiddenSize);
                using var capture = new TrainingCapture(guard, remote);
                var tuner = new SplitFineTuner(tuned, keys, remote, Path.Combine(work, "tuned"));
                using var snapshots = r.GetValue(withClient) ? new ClientDecoderSnapshots(tuner) : null;
                var tuningClock = System.Diagnostics.Stopwatch.StartNew();
                var losses = tuner.Run(docs, settings, progress, client);
                double tuningSeconds = tuningClock.Elapsed.TotalSeconds;
                var attackClock = System.Diagnostics.Stopwatch.StartNew();

                var byStep = capture.Samples.GroupBy(s => s.Step).OrderBy(g => g.Key)
                    .Select(g => (IReadOnlyList<(Tensor, Tensor)>)g.Select(s => (s.Middle, s.Gradient)).ToList()).ToList();
                var truth = Enumerable.Range(0, byStep.Count)
                    .Select(step => (IReadOnlyList<long[]>)TuningLabels.Of(docs, tuned.Tokenizer, settings, keys.Permutation, step)).ToList();
                var recovery = new StuningLabelAttack(client, tuned.Split, settings.LearningRate, progress)
                    .Run(byStep, truth, snapshots, out var recoveredStream, out var truthStream);
                double attackSeconds = attackClock.Elapsed.TotalSeconds;

                // The recovered labels are cipher symbols in order: decipher them as the cloud would.
                JsonObject? deciphered = null;
                if (!r.GetValue(noDecipher))
                {
                    var inverse = new int[config.VocabSize];
                    for (int t = 0; t < keys.Permutation.Forward.Count; t++) inverse[keys.Permutation.Forward[t]] = t;
                    var plain = truthStream.Select(s => s.Select(i => inverse[i]).ToArray()).ToList();
                    var publicFolders = AttackCommand.List(r.GetValue(publicDirs));
                    var (corpus, _) = VolumeRun.LoadCode(publicFolders.Count == 0 ? new string?[] { null } : publicFolders.Select(f => (string?)f).ToList(),
                        tuned.Tokenizer, 20_000_000);
                    var lm = new KneserNeyTrigram(corpus, config.VocabSize);
                    var naming = new SubstitutionDecipherer(lm, new SubstitutionDecipherer.Settings(), progress).Solve(new CipherStream(recoveredStream));
                    var read = DecipherScore.Of(plain, recoveredStream, naming, new TokenClasses(tuned.Tokenizer, config.VocabSize));
                    deciphered = new JsonObject
                    {
                        ["tokens"] = read.Tokens, ["position_accuracy"] = Math.Round(read.PositionAccuracy, 4),
                        ["content_position_accuracy"] = Math.Round(read.ContentPositionAccuracy, 4), ["distinct_identifiers"] = Math.Round(read.DistinctIdentifiers, 4),
                    };
                }

                var labels = new JsonArray(recovery.Select(x => (JsonNode)new JsonObject
                {
                    ["step"] = x.Step, ["recovered"] = Math.Round(x.Best, 4), ["public_decoder"] = x.PublicDecoder is double pd ? Math.Round(pd, 4) : null,
                    ["shadow_decoder"] = Math.Round(x.ShadowDecoder, 4), ["labelled"] = x.Labelled,
                    ["client_decoder"] = x.ClientDecoder is double cd ? Math.Round(cd, 4) : null,
                    ["by_solve"] = new JsonObject(x.BySolve.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 4)))),
                }).ToArray());
                var o = new JsonObject
                {
                    ["setting"] = name, ["steps"] = settings.Steps, ["batch"] = settings.Batch, ["seq"] = settings.SequenceLength,
                    ["learning_rate"] = settings.LearningRate, ["stuning_labels"] = labels, ["stuning_deciphered"] = deciphered,
                    ["defence"] = defence.Name, ["tuning_loss"] = new JsonArray(losses.Select(l => (JsonNode)l).ToArray()),
                    ["tuning_seconds"] = Math.Round(tuningSeconds, 1), ["attack_seconds"] = Math.Round(attackSeconds, 1),
                };
                if (r.GetValue(report) is { } path) StuningReport.MergeInto(path, name, o);
                if (r.GetValue(json)) CliJson.Print(o); else CliJson.PrintTable(o);
                return 0;
            }
            finally { try { Directory.Delete(work, recursive: true); } catch (IOException) { } }
        });
        return cmd;
    }
}
