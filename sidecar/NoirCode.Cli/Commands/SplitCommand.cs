using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Core.Split;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir split</c>: writes the client shards and the cloud shard to separate folders.</summary>
public static class SplitCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var clientOut = new Option<string>("--client-out") { Description = "new folder for the client side (embedding, first and last blocks, head, tokenizer)", Required = true };
        var cloudOut = new Option<string>("--cloud-out") { Description = "new folder for the cloud side (middle blocks only)", Required = true };
        var split = CommonOptions.Split();
        var json = CommonOptions.Json();
        var cmd = new Command("split", "Cut a model into a client folder and a cloud folder") { model, clientOut, cloudOut, split, json };
        cmd.SetAction(r =>
        {
            var result = ModelSplitter.Split(r.GetValue(model)!, r.GetValue(clientOut)!, r.GetValue(cloudOut)!,
                CommonOptions.ParseSplit(r.GetValue(split)), CommonOptions.Progress());
            var o = new JsonObject
            {
                ["split"] = result.Split.ToString(),
                ["client_folder"] = Path.GetFullPath(r.GetValue(clientOut)!),
                ["cloud_folder"] = Path.GetFullPath(r.GetValue(cloudOut)!),
                ["client_tensors"] = result.ClientTensors,
                ["cloud_tensors"] = result.CloudTensors,
                ["client_bytes"] = result.ClientBytes,
                ["cloud_bytes"] = result.CloudBytes,
                ["model_fingerprint"] = result.Fingerprint,
            };
            if (r.GetValue(json)) CliJson.Print(o);
            else Console.WriteLine($"split {result.Split}: client {result.ClientTensors} tensors ({result.ClientBytes / 1e6:F1} MB) → {o["client_folder"]}; cloud {result.CloudTensors} tensors ({result.CloudBytes / 1e6:F1} MB) → {o["cloud_folder"]}");
            return 0;
        });
        return cmd;
    }
}
