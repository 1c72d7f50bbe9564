// placeholder until the layers land
