using BaloyiBank.Aggregator;
using BaloyiBank.Bus;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The aggregator service on its own: silver from the lake (Lake:Kind = folder | blob) into gold, woken by
// SilverBatchCommitted and polling silver besides, GoldCommitted out on the control bus (Bus:*). Configuration from
// appsettings.json, environment variables (Aggregator__PollInterval=…) and the command line, validated at start-up;
// /health and /alive on Health:Port.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults("aggregator");
builder.AddHealthEndpoints();
builder.Services.AddLake(builder.Configuration).AddBlobLake(builder.Configuration);
builder.Services.AddControlBus(builder.Configuration, bus => bus.AddAggregatorConsumers());
builder.Services.AddAggregator(builder.Configuration);
builder.Services.AddHealthChecks().AddCheck<AggregatorHealthCheck>("aggregator", tags: [ServiceDefaultsExtensions.ReadyTag]);
await builder.Build().RunAsync();
