using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.ServiceDefaults.Tests;

/// <summary>A loopback HTTP endpoint that stands in for an OTLP collector or the Application Insights ingestion: it keeps every POST.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, string Body)> _requests;

    private Receiver(WebApplication app, ConcurrentQueue<(string Path, string Body)> requests, Uri url)
    {
        _app = app;
        _requests = requests;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var requests = new ConcurrentQueue<(string Path, string Body)>();
        app.MapPost("/{**path}", async context =>
        {
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy, context.RequestAborted);
            var bytes = copy.ToArray();
            if (context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
            {
                await using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                await gzip.CopyToAsync(plain, context.RequestAborted);
                bytes = plain.ToArray();
            }

            // Protobuf keeps strings as UTF-8 bytes, so names and attribute values are findable in the text.
            requests.Enqueue((context.Request.Path.Value ?? "", Encoding.UTF8.GetString(bytes)));
            context.Response.StatusCode = StatusCodes.Status200OK;
            if (context.Request.Path.StartsWithSegments("/v2.1/track", StringComparison.Ordinal))
            {
                // The Application Insights answer: everything accepted, nothing to retry.
                await context.Response.WriteAsJsonAsync(new { itemsReceived = 1, itemsAccepted = 1, errors = Array.Empty<object>() }, context.RequestAborted);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Receiver(app, requests, new Uri(address));
    }

    public IReadOnlyList<(string Path, string Body)> Requests => [.. _requests];

    /// <summary>Waits until a request to <paramref name="path"/> whose body holds every one of <paramref name="texts"/> arrived.</summary>
    public async Task<string> WaitForAsync(string path, params string[] texts)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var (p, body) in _requests)
            {
                if (p == path && texts.All(t => body.Contains(t, StringComparison.Ordinal)))
                {
                    return body;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException(
            $"No request to {path} with [{string.Join(", ", texts)}] within 30 s; received: {string.Join(", ", _requests.Select(r => r.Path))}");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
