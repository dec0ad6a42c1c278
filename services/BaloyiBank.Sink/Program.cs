using BaloyiBank.Bus;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Sink;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The sink service on its own: gold from the lake (Lake:Kind = folder | blob), the warehouse (Warehouse:Kind =
// duckdb | postgres | sqlserver | synapse; the connection string from the environment, never a file), GoldCommitted
// in and WarehouseLoaded out on the control bus (Bus:*). Configuration validated at start-up; /health and /alive on
// Health:Port.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults("sink");
builder.AddHealthEndpoints();
builder.Services.AddLake(builder.Configuration).AddBlobLake(builder.Configuration);
builder.Services.AddControlBus(builder.Configuration, bus => bus.AddSinkConsumers());
builder.Services.AddSink(builder.Configuration);
builder.Services.AddHealthChecks().AddCheck<SinkHealthCheck>("sink", tags: [ServiceDefaultsExtensions.ReadyTag]);
await builder.Build().RunAsync();
