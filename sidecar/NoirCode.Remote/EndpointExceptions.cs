namespace NoirCode.Remote;

/// <summary>The endpoint refused a request for a reason retrying will not fix (bad input, wrong model, no access).</summary>
public sealed class EndpointRequestException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No endpoint could be reached within the attempts allowed.</summary>
public sealed class EndpointUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
