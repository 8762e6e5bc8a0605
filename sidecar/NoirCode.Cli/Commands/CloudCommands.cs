using System.CommandLine;
using NoirCode.Endpoint.Hosting;

namespace NoirCode.Cli.Commands;

/// <summary><c>noir cloud serve</c> and <c>noir cloud hash-key</c>: the endpoint's own commands (<see cref="EndpointCommands"/>),
/// hosted by the CLI too so the sidecar can start a local endpoint from the same install.</summary>
public static class CloudCommands
{
    public static Command Create() => new("cloud", "Run the remote split-learning endpoint") { EndpointCommands.Serve(), EndpointCommands.HashKey() };
}
