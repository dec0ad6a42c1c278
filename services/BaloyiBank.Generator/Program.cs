using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults("generator");
builder.Services.AddEventLog(builder.Configuration);
builder.Services.AddGenerator(builder.Configuration);
await builder.Build().RunAsync();
