"""fanggang's HTTP service: townships register, dispatchers plan and publish, factories confirm arrivals."""
