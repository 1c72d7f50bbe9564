print("mlflux")
