using System.CommandLine;
using NoirCode.Endpoint.Hosting;

// noir-endpoint: the cloud side of NoirCode (the middle blocks only). `noir-endpoint serve --shard DIR …` takes the
// same options as `noir cloud serve`; errors print one line on stderr and exit 1.
var root = new RootCommand("NoirCode endpoint: serves the middle blocks of a split model over gRPC")
{
    EndpointCommands.Serve(),
    EndpointCommands.HashKey(),
};
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ArgumentException or IOException or FormatException or UnauthorizedAccessException or InvalidOperationException)
{
    Console.Error.WriteLine($"noir-endpoint: {e.Message}");
    return 1;
}
