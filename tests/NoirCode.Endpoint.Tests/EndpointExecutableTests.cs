using NoirCode.Remote;

namespace NoirCode.Endpoint.Tests;

/// <summary>`noir-endpoint serve`, the executable the image ships (deploy/Dockerfile), serves a real session.</summary>
public class EndpointExecutableTests
{
    [Test]
    public void TheEndpointExecutableServesAGeneration()
    {
        using var endpoint = EndpointServerProcess.Start(Path.Combine(AppContext.BaseDirectory, "noir-endpoint.dll"),
            new[] { "--shard", EndpointFixture.Cloud, "--port", "0" });
        using var remote = Clients.Remote(Clients.Options(new[] { endpoint.Address }));
        var result = Clients.Generate(remote, "def add(a, b):", 6);
        Assert.That(result.Text, Is.EqualTo(Clients.GenerateLocally("def add(a, b):", 6).Text), "the same middle as in-process");
    }
}
