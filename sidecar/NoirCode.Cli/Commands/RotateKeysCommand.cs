using System.CommandLine;
using System.Text.Json.Nodes;
using NoirCode.Privacy.Ledger;
using NoirCode.Remote;
using NoirCode.Sidecar;
using NoirCode.STuning;

namespace NoirCode.Cli.Commands;

/// <summary>
/// <c>noir privacy rotate-keys</c>: new keys with the same ε, the tuned client shard re-keyed for them, and (with
/// <c>--retune-data</c>) the re-tune that trains it and a fresh endpoint adapter for the new key, as one step.
/// </summary>
public static class RotateKeysCommand
{
    public static Command Create()
    {
        var keys = new Option<string>("--keys") { Description = "the keys to replace", Required = true };
        var model = CommonOptions.Model("the client in use with them: a tuned client shard (re-keyed), or the model / client shard");
        var data = new Option<string?>("--retune-data") { Description = "folder of your code to tune the re-keyed shard on (*.py); without it, tune later with noir tune" };
        var endpoint = new Option<string?>("--endpoint") { Description = "the endpoint for the re-tune (trains the new key's fresh adapter)" };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "owner-only file holding the endpoint API key (default: $NOIR_API_KEY)" };
        var allowCleartext = new Option<bool>("--allow-cleartext") { Description = "allow an http:// endpoint on another machine (the API key is never sent over it)" };
        var steps = new Option<int>("--steps") { Description = "re-tune optimiser steps", DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { Description = "samples per step", DefaultValueFactory = _ => 8 };
        var seq = new Option<int>("--seq") { Description = "tokens per sample", DefaultValueFactory = _ => 256 };
        var lr = new Option<double>("--lr") { Description = "client learning rate", DefaultValueFactory = _ => 5e-4 };
        var budget = new Option<long?>("--budget") { Description = "stop the re-tune before the new key's exposure passes this many tokens" };
        var json = CommonOptions.Json();
        var cmd = new Command("rotate-keys", "New privacy keys (same ε); a tuned shard is re-keyed, and re-tuned against a fresh endpoint adapter with --retune-data")
            { keys, model, data, endpoint, apiKeyFile, allowCleartext, steps, batch, seq, lr, budget, json };
        cmd.SetAction(r =>
        {
            string? dataDir = r.GetValue(data), endpointList = r.GetValue(endpoint);
            if (dataDir != null && endpointList == null) throw new ArgumentException("--retune-data needs --endpoint: the re-tune trains the new key's adapter there");
            if (dataDir != null && !Directory.Exists(dataDir)) throw new IOException($"data folder {dataDir} does not exist");
            // Checked before anything is written: a refused endpoint must not leave half a rotation behind.
            EndpointClientOptions? options = null;
            if (endpointList != null)
            {
                options = new EndpointClientOptions
                {
                    Endpoints = EndpointClientOptions.ParseList(endpointList), ApiKey = ApiKeySource.Resolve(r.GetValue(apiKeyFile)), AllowCleartext = r.GetValue(allowCleartext),
                };
                options.Validate();
            }
            var progress = CommonOptions.Progress();
            var rotation = KeyRotation.Rotate(r.GetValue(keys)!, r.GetValue(model)!, DateTimeOffset.UtcNow, progress);
            var o = new JsonObject
            {
                ["keys"] = rotation.KeysFolder, ["key_id"] = rotation.KeyId, ["previous_key_id"] = rotation.PreviousKeyId, ["epsilon"] = rotation.Epsilon,
                ["client"] = rotation.ClientFolder, ["adapter_id"] = rotation.AdapterId,
            };
            string retuneLater = $"noir tune --model {rotation.ClientFolder} --keys {rotation.KeysFolder} --out {rotation.ClientFolder} --endpoint URL --data YOUR_CODE";
            int exit = 0;
            if (dataDir != null && rotation.ClientFolder != null)
            {
                try
                {
                    string ledgerFolder = ExposureLedger.DefaultFolder();
                    var retune = Retune.Run(rotation.ClientFolder, rotation.KeysFolder, options!, dataDir,
                        new STuning.TuneSettings(r.GetValue(steps), r.GetValue(batch), r.GetValue(seq), r.GetValue(lr)),
                        new ExposureLedger(ledgerFolder), WorkspaceIds.For(ledgerFolder, dataDir),
                        r.GetValue(budget) is long limit ? new ExposureBudget(limit, BudgetPeriod.Key) : null, progress);
                    o["retune_steps"] = retune.Steps; o["retune_last_loss"] = retune.Losses.LastOrDefault(); o["retune_tokens_sent"] = retune.TokensSent;
                }
                catch (Exception e) when (e is IOException or ArgumentException or EndpointUnavailableException or EndpointRequestException or ExposureBudgetExceededException)
                {
                    // The rotation stands (its keys and shard are written): say where they are and how to tune later.
                    o["retune_error"] = e.Message;
                    o["next"] = retuneLater;
                    exit = 1;
                }
            }
            else if (rotation.ClientFolder != null) o["next"] = retuneLater;
            else o["next"] = "the model was not tuned: nothing to re-key; tune it under the new keys with noir tune";
            if (r.GetValue(json)) CliJson.Print(o); else CliJson.PrintTable(o);
            if (exit != 0) Console.Error.WriteLine($"noir: the keys were rotated, but the re-tune failed: {o["retune_error"]}");
            return exit;
        });
        return cmd;
    }
}
