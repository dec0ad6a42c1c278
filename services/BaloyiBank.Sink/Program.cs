using BaloyiBank.Bus;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Sink;
using Microsoft.Extensions.Hosting;

// The sink service on its own: gold from the lake (Lake:Kind = folder | blob), the warehouse (Warehouse:Kind =
// duckdb | postgres | sqlserver | synapse; the connection string from the environment, never a file), GoldCommitted
// in and WarehouseLoaded out on the control bus (Bus:*). Configuration validated at start-up.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults("sink");
builder.Services.AddLake(builder.Configuration).AddBlobLake(builder.Configuration);
builder.Services.AddControlBus(builder.Configuration, bus => bus.AddSinkConsumers());
builder.Services.AddSink(builder.Configuration);
await builder.Build().RunAsync();
