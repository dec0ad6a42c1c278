using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>
/// A simulated Blob endpoint for what a real Azurite cannot be made to do on cue (5xx answers, a lost answer, an
/// https account): an HttpMessageHandler under Azure.Core's own HttpClientTransport, answering from a script.
/// </summary>
public sealed class SimulatedEndpoint(Func<HttpRequestMessage, byte[]?, int, HttpResponseMessage> answer) : HttpMessageHandler
{
    private readonly List<(HttpRequestMessage Request, byte[]? Body)> _requests = [];

    public IReadOnlyList<(HttpRequestMessage Request, byte[]? Body)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public HttpPipelineTransport Transport() => new HttpClientTransport(this);

    public static HttpResponseMessage Status(HttpStatusCode status, string? errorCode = null, byte[]? body = null)
    {
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent(body ?? []) };
        if (errorCode is not null)
        {
            response.Headers.Add("x-ms-error-code", errorCode);
            if (body is not null)
            {
                // As the service does: an error body is XML, which the SDK reads the message from.
                response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/xml");
            }
        }

        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        int index;
        lock (_requests)
        {
            _requests.Add((request, body));
            index = _requests.Count - 1;
        }

        return answer(request, body, index);
    }
}

/// <summary>A fake token credential: hands out a fixed token and records the scopes asked for. Never calls Azure.</summary>
public sealed class FakeTokenCredential : TokenCredential
{
    public List<string[]> Requests { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add(requestContext.Scopes);
        }

        return new AccessToken("fake-token-for-tests", DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
