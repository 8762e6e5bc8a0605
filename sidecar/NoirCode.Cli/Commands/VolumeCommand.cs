using System.CommandLine;
using NoirCode.Attack.Report;
using NoirCode.Attack.Volume;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir attack volume</c>: what the strongest inference attack reads as a function of how much traffic
/// the cloud has seen under one key (and the oracle-cipher proof of the decipherer's strength).</summary>
public static class VolumeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model("the public model (whole model folder): what the attacker knows");
        var keys = new Option<string?>("--keys") { Description = "comma-separated privacy key folders, one setting each" };
        var tuned = new Option<string?>("--tuned") { Description = "comma-separated tuned client shards, one per --keys folder" };
        var epsilons = new Option<string?>("--epsilons") { Description = "comma-separated ε values: fresh keys made in memory for this run, on the public client" };
        var fclean = new Option<string?>("--fclean") { Description = "a client shard tuned without keys" };
        var noUnprotected = new Option<bool>("--no-unprotected") { Description = "leave out the unprotected split" };
        var publicDirs = new Option<string?>("--public") { Description = "comma-separated folders of public .py code for the attacker's language model (default: the python3 stdlib)" };
        var publicTokens = new Option<long>("--public-tokens") { Description = "public tokens for the language model at most", DefaultValueFactory = _ => 20_000_000 };
        var privateDirs = new Option<string?>("--private-code") { Description = "comma-separated folders of .py code standing for the user's private code; default: a held-out share of the --public files (the attacker knows code like the user's)" };
        var privateShare = new Option<double>("--private-share") { Description = "without --private-code: the share of the public files held out as the private code", DefaultValueFactory = _ => 0.2 };
        var privateExtra = new Option<string?>("--private-extra") { Description = "comma-separated folders of .py code (not in --public) that the held-out private code continues with when it is shorter than the largest volume; smaller volumes read the same traffic as without it" };
        var maxSweeps = new Option<int>("--max-sweeps") { Description = "the decipherer's sweep limit (it stops earlier once a sweep renames almost nothing)", DefaultValueFactory = _ => 10 };
        var naming = new Option<string>("--naming")
        {
            Description = "where the search starts at each volume after the first: best (fresh and continued from the shorter prefix's naming, the likelier kept), fresh, or continued",
            DefaultValueFactory = _ => "best",
        };
        var volumes = new Option<string>("--volumes") { Description = "observed token volumes to measure", DefaultValueFactory = _ => "1000,3000,10000,30000,100000,300000,1000000" };
        var window = new Option<int>("--window") { Description = "tokens per request, sent from position 0", DefaultValueFactory = _ => 512 };
        var settingsMax = new Option<long?>("--settings-max-volume") { Description = "decipher the client settings only up to this volume (clustering still covers all; the oracle goes to the largest)" };
        var homophones = new Option<int>("--homophones") { Description = "rows per token of the --epsilons keys (homophonic INDVocab)", DefaultValueFactory = _ => 1 };
        var residualNoise = new Option<double>("--residual-noise") { Description = "σ of the per-occurrence noise of the --epsilons clients (residual cancellation)", DefaultValueFactory = _ => 0 };
        var noOracle = new Option<bool>("--no-oracle") { Description = "skip the oracle-cipher proof of strength" };
        var oracleHomophones = new Option<string?>("--oracle-homophones") { Description = "comma-separated k: oracle homophonic ciphers (k symbols per token, one per occurrence) deciphered knowing k, one curve each" };
        var work = new Option<string>("--work") { Description = "folder for finished parts (scores, the namings later volumes continue from, the clustering calibration; never code), to resume an interrupted run; a new folder for other data or settings", DefaultValueFactory = _ => "artifacts/attack-volume" };
        var merge = new Option<string?>("--merge") { Description = "add the curves of a finished run (its --json output) to --report, measuring nothing" };
        var report = new Option<string?>("--report") { Description = "a privacy report (.json, from noir attack) to add the curves to; its .md and a -volume.png beside it are rewritten" };
        var split = CommonOptions.Split();
        var wire = new Option<string>("--wire") { Description = "wire format the client uses: f16, f32, bf16 or int8", DefaultValueFactory = _ => "f16" };
        var json = CommonOptions.Json();
        var cmd = new Command("volume", "The strongest inference attack (streaming clustering + n-gram decipherment) against how much traffic the cloud has seen")
        {
            model, keys, tuned, epsilons, fclean, noUnprotected, publicDirs, publicTokens, privateDirs, privateShare, privateExtra, maxSweeps, naming, volumes, settingsMax, window, noOracle, oracleHomophones, homophones, residualNoise, work, merge, report, split, wire, json,
        };
        cmd.SetAction(r =>
        {
            if (r.GetValue(merge) is { } saved)
            {
                string target = r.GetValue(report) ?? throw new ArgumentException("--merge needs --report");
                if (!File.Exists(saved)) throw new IOException($"{saved} does not exist");
                VolumeReport.MergeInto(target, VolumeReport.FromJson(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(saved))!.AsObject()));
                Console.Error.WriteLine($"added the curves of {saved} to {target}");
                return 0;
            }
            string publicModel = r.GetValue(model)!;
            var settings = AttackCommand.Settings(publicModel, r.GetValue(noUnprotected), r.GetValue(fclean), r.GetValue(keys), r.GetValue(tuned),
                withUntuned: false, r.GetValue(epsilons), r.GetValue(homophones) is >= 1 and <= Privacy.Keys.PrivacyKeys.MaxHomophones and var k ? k
                    : throw new ArgumentException($"--homophones must be 1 to {Privacy.Keys.PrivacyKeys.MaxHomophones}"),
                r.GetValue(residualNoise) is >= 0 and var sigma && !double.IsInfinity(sigma) ? sigma : throw new ArgumentException("--residual-noise must be a number ≥ 0"));
            var points = AttackCommand.List(r.GetValue(volumes)).Select(v => long.TryParse(v, out long n) && n > 0 ? n
                : throw new ArgumentException($"--volumes must be positive token counts, not '{v}'")).Distinct().Order().ToArray();
            if (points.Length == 0) throw new ArgumentException("--volumes is empty");
            var publicFolders = AttackCommand.List(r.GetValue(publicDirs));
            var options = new VolumeOptions
            {
                PublicModel = publicModel, Settings = settings,
                PublicFolders = publicFolders.Count == 0 ? new string?[] { null } : publicFolders.Select(f => (string?)f).ToList(),
                PublicTokens = AttackCommand.Positive(r.GetValue(publicTokens), "--public-tokens"),
                PrivateFolders = AttackCommand.List(r.GetValue(privateDirs)), Volumes = points,
                PrivateExtraFolders = AttackCommand.List(r.GetValue(privateExtra)),
                MaxSweeps = (int)AttackCommand.Positive(r.GetValue(maxSweeps), "--max-sweeps"),
                Start = Enum.TryParse<NamingStart>(r.GetValue(naming), ignoreCase: true, out var start) && Enum.IsDefined(start) && !int.TryParse(r.GetValue(naming), out _)
                    ? start : throw new ArgumentException($"--naming must be best, fresh or continued, not '{r.GetValue(naming)}'"),
                PrivateShare = r.GetValue(privateShare) is > 0 and < 1 and var share ? share : throw new ArgumentException("--private-share must be between 0 and 1"),
                SettingsMaxVolume = r.GetValue(settingsMax),
                Window = (int)AttackCommand.Positive(r.GetValue(window), "--window"), Oracle = !r.GetValue(noOracle),
                OracleHomophones = AttackCommand.List(r.GetValue(oracleHomophones)).Select(k => int.TryParse(k, out int n) && n >= 1 ? n
                    : throw new ArgumentException($"--oracle-homophones must be positive counts, not '{k}'")).ToList(),
                WorkFolder = r.GetValue(work)!,
                Split = CommonOptions.ParseSplit(r.GetValue(split)), Wire = ModelRuntimeOptions.ParseWire(r.GetValue(wire)!),
            };
            var result = VolumeRun.Execute(options, CommonOptions.Progress());
            var o = VolumeReport.ToJson(result);
            if (r.GetValue(report) is { } path)
            {
                VolumeReport.MergeInto(path, result);
                Console.Error.WriteLine($"added the volume curves to {path}, {Path.ChangeExtension(path, ".md")} and {Path.ChangeExtension(path, null)}-volume.png");
            }
            if (r.GetValue(json)) CliJson.Print(o);
            else Console.Out.Write(VolumeReport.Markdown(result, null));
            return 0;
        });
        return cmd;
    }
}
