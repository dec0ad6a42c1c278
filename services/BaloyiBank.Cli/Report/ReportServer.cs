using System.Globalization;
using BaloyiBank.Sink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Report;

/// <summary>
/// <c>baloyi report</c>'s web server: the page (static files from <c>&lt;output&gt;/report</c>, its JavaScript vendored at
/// build time) and JSON endpoints that answer only from the warehouse's reporting views through
/// <see cref="ReportingQueries"/>. Listens on 127.0.0.1 only: the page has no authentication.
/// </summary>
internal sealed class ReportServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ReportingQueries _queries;
    // One warehouse connection, one query at a time: requests are few and the connection is not thread-safe.
    private readonly SemaphoreSlim _gate = new(1, 1);

    private static readonly string[] PageFiles = ["index.html", "report.js", "vendor/chart.umd.min.js", "vendor/topojson-client.min.js", "vendor/land-110m.json"];

    private ReportServer(WebApplication app, ReportingQueries queries) => (_app, _queries) = (app, queries);

    /// <summary>Where the page is served from: the build copies Report/wwwroot (and vendor/) there.</summary>
    public static string WebRoot => Path.Combine(AppContext.BaseDirectory, "report");

    /// <summary>The page's address once started.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    public static async Task<ReportServer> StartAsync(ReportingQueries queries, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var missing = PageFiles.Where(f => !File.Exists(Path.Combine(WebRoot, f))).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The report page's files are missing from {WebRoot} ({string.Join(", ", missing)}): the build vendors them with npm " +
                "(services/BaloyiBank.Cli/Report/vendor-assets.sh). Run deploy/local/ensure-prereqs.sh, then build the CLI again.");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { WebRootPath = WebRoot, ContentRootPath = WebRoot });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        var server = new ReportServer(app, queries);
        var files = new PhysicalFileProvider(WebRoot);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        app.MapGet("/api/facets", () => server.Query(q => q.Facets()));
        app.MapGet("/api/trends", (HttpRequest r) => server.Query(q => q.Trends(Filter(r))));
        app.MapGet("/api/categories", (HttpRequest r) => server.Query(q => q.Categories(Filter(r))));
        app.MapGet("/api/places", (HttpRequest r) => server.Query(q => q.Places(Filter(r))));
        app.MapGet("/api/top-customers", (HttpRequest r) => server.Query(q => q.TopCustomers(Filter(r), 10)));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        server.Address = new Uri(app.Urls.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private async Task<IResult> Query<T>(Func<ReportingQueries, T> query)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return Results.Json(query(_queries));
        }
        catch (ArgumentException e)
        {
            return Results.BadRequest(new { error = e.Message });
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The filter from the query string: from, to (yyyy-MM-dd), category, country, currency; empty means all.</summary>
    internal static ReportFilter Filter(HttpRequest request)
    {
        string? Text(string name) => request.Query[name].ToString() is { Length: > 0 } value ? value : null;
        DateOnly? Date(string name) => Text(name) is not { } value ? null
            : DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date
            : throw new ArgumentException($"'{name}' must be a date as yyyy-MM-dd (got '{value}').");
        return new(Date("from"), Date("to"), Text("category"), Text("country"), Text("currency"));
    }
}
