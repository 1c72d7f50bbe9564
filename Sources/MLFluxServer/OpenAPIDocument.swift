/// The OpenAPI 3.0 description of every route of `mlflux serve` (`GET /api/v1/openapi.json`).
/// Numbers of a prediction are JSON numbers, or the strings "nan", "inf", "-inf" where they
/// are not finite (ΔG of a reaction at equilibrium, an undetermined standard error).
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "MLFlux",
        "version": "1",
        "description": "Metabolic fluxes from measured 13C mass isotopomer distributions (MIDs): the model bundles of this server, their MID templates, and predictions by the ANN and least-squares predictors. Pages for a browser are at / and /predict."
      },
      "paths": {
        "/api/v1/models": {
          "get": {
            "operationId": "listModels",
            "summary": "The model bundles this server found (as `mlflux models`).",
            "responses": {
              "200": {"description": "Models", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Models"}}}}
            }
          }
        },
        "/api/v1/models/{name}/template": {
          "get": {
            "operationId": "modelTemplate",
            "summary": "An empty long-form MID table for the model (as `mlflux template NAME`).",
            "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}, "example": "toy"}],
            "responses": {
              "200": {"description": "CSV with a header experiment,metabolite,isotopologue,fraction and one row per MID entry", "content": {"text/csv": {"schema": {"type": "string"}}}},
              "404": {"$ref": "#/components/responses/NotFound"}
            }
          }
        },
        "/api/v1/predict": {
          "post": {
            "operationId": "predict",
            "summary": "Fluxes, exchange fluxes, ΔG and standard errors from measured MIDs, per sample and predictor.",
            "description": "Send JSON, or the table itself as text/csv (text/tab-separated-values, text/plain) with the model and predictors in the query. The table is any format `mlflux predict` reads: CSV or TSV, long (experiment,metabolite,isotopologue,fraction[,stddev]) or wide (experiment,metabolite,M+0,M+1,…), with an optional `sample` column for several samples.",
            "parameters": [
              {"name": "model", "in": "query", "required": false, "description": "Model name (text/csv bodies only; required there).", "schema": {"type": "string"}},
              {"name": "predictor", "in": "query", "required": false, "description": "Predictor (text/csv bodies only; repeatable; default ann).", "style": "form", "explode": true, "schema": {"type": "array", "items": {"type": "string"}}},
              {"name": "imputer", "in": "query", "required": false, "description": "Imputer for missing MIDs (text/csv bodies only; default: the model's).", "schema": {"type": "string"}},
              {"name": "stddev", "in": "query", "required": false, "description": "σ of MID entries without a stddev column (text/csv bodies only; default 0.01).", "schema": {"type": "number"}}
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {"$ref": "#/components/schemas/PredictRequest"},
                  "example": {"model": "toy", "mids": "experiment,metabolite,isotopologue,fraction\nA_100,molB,0,0.0714\nA_100,molB,1,0.9286\nA_100,molB,2,0\nA_100,molB,3,0\n", "predictors": ["ann"], "imputer": null, "stddev": null}
                },
                "text/csv": {"schema": {"type": "string"}}
              }
            },
            "responses": {
              "200": {"description": "One entry per sample, one prediction per predictor", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "413": {"$ref": "#/components/responses/TooLarge"},
              "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
              "503": {"$ref": "#/components/responses/Busy"}
            }
          }
        },
        "/api/v1/openapi.json": {
          "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": {"200": {"description": "OpenAPI 3.0 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
          }
        },
        "/": {
          "get": {
            "operationId": "indexPage",
            "summary": "Page: the models and the prediction form.",
            "responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}
          }
        },
        "/predict": {
          "post": {
            "operationId": "predictPage",
            "summary": "Page: the results of the prediction form (a pasted table or an uploaded file, not both).",
            "requestBody": {
              "required": true,
              "content": {
                "multipart/form-data": {"schema": {"$ref": "#/components/schemas/PredictForm"}},
                "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/PredictForm"}}
              }
            },
            "responses": {
              "200": {"description": "HTML results page", "content": {"text/html": {"schema": {"type": "string"}}}},
              "400": {"description": "HTML page naming what is wrong with the input", "content": {"text/html": {"schema": {"type": "string"}}}},
              "404": {"description": "HTML page: no model of that name", "content": {"text/html": {"schema": {"type": "string"}}}},
              "413": {"description": "HTML page: the body is larger than the server's limit", "content": {"text/html": {"schema": {"type": "string"}}}},
              "415": {"description": "HTML page: not a form post", "content": {"text/html": {"schema": {"type": "string"}}}},
              "503": {"description": "HTML page: too many predictions waiting", "content": {"text/html": {"schema": {"type": "string"}}}}
            }
          }
        }
      },
      "components": {
        "responses": {
          "BadRequest": {"description": "The input cannot be used (table, names, σ); one line says why", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "NotFound": {"description": "No model of that name", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "TooLarge": {"description": "The body is larger than the server's limit (mlflux serve --max-body)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "UnsupportedMediaType": {"description": "Content-Type is neither application/json nor a text table", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Busy": {"description": "Too many predictions are waiting; try again", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
          "Number": {"description": "A number, or \"nan\", \"inf\", \"-inf\" where it is not finite", "oneOf": [{"type": "number"}, {"type": "string", "enum": ["nan", "inf", "-inf"]}]},
          "Model": {
            "type": "object",
            "required": ["name", "description", "experiments", "metabolites", "reactions", "predictors", "imputers", "defaultImputer"],
            "properties": {
              "name": {"type": "string"},
              "description": {"type": "string"},
              "experiments": {"type": "array", "items": {"type": "string"}, "description": "Tracer experiment ids (the experiment column of a table)"},
              "metabolites": {"type": "array", "items": {"type": "string"}, "description": "Measured metabolite ids (the metabolite column)"},
              "reactions": {"type": "integer", "minimum": 0},
              "predictors": {"type": "array", "items": {"type": "string"}, "description": "Predictors that can run now"},
              "imputers": {"type": "array", "items": {"type": "string"}, "description": "Imputers that can run now"},
              "defaultImputer": {"type": "string", "nullable": true}
            }
          },
          "Models": {"type": "object", "required": ["models"], "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}}},
          "PredictRequest": {
            "type": "object",
            "required": ["model", "mids"],
            "properties": {
              "model": {"type": "string"},
              "mids": {"type": "string", "description": "The MID table as text"},
              "predictors": {"type": "array", "items": {"type": "string"}, "description": "Default [\"ann\"]"},
              "imputer": {"type": "string", "nullable": true},
              "stddev": {"type": "number", "nullable": true, "description": "σ of MID entries without a stddev column, in [1e-12, 1]; default 0.01"}
            }
          },
          "PredictForm": {
            "type": "object",
            "required": ["model"],
            "properties": {
              "model": {"type": "string"},
              "mids": {"type": "string", "description": "A pasted table"},
              "file": {"type": "string", "format": "binary", "description": "An uploaded table (UTF-8 text)"},
              "predictor": {"type": "array", "items": {"type": "string"}},
              "imputer": {"type": "string"},
              "stddev": {"type": "string"}
            }
          },
          "Flux": {
            "type": "object",
            "required": ["net", "netSE"],
            "properties": {
              "net": {"$ref": "#/components/schemas/Number"},
              "netSE": {"$ref": "#/components/schemas/Number"},
              "xch": {"$ref": "#/components/schemas/Number"},
              "xchSE": {"$ref": "#/components/schemas/Number"},
              "deltaG": {"$ref": "#/components/schemas/Number"},
              "deltaGSE": {"$ref": "#/components/schemas/Number"}
            }
          },
          "PredictionResult": {
            "type": "object",
            "description": "What `mlflux predict --format json` prints for one sample",
            "required": ["model", "predictor", "temperature", "fluxes", "fit"],
            "properties": {
              "model": {"type": "string"},
              "predictor": {"type": "string"},
              "temperature": {"type": "number", "description": "K"},
              "fluxes": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Flux"}},
              "fit": {"type": "object", "required": ["ssr", "weightedEntries", "residuals"], "description": "Measured MIDs against those simulated from the fluxes; chiSquared holds the χ² test"},
              "version": {"type": "string"},
              "bundle": {"type": "string"},
              "bundleSHA256": {"type": "string"},
              "freeFluxes": {"type": "array", "items": {"type": "string"}},
              "freeCovariance": {"type": "array", "items": {"type": "array", "items": {"$ref": "#/components/schemas/Number"}}}
            }
          },
          "Prediction": {
            "type": "object",
            "required": ["predictor", "seconds", "notes", "warnings", "result"],
            "properties": {
              "predictor": {"type": "string"},
              "seconds": {"type": "number", "description": "Wall time of this prediction"},
              "notes": {"type": "array", "items": {"type": "string"}},
              "warnings": {"type": "array", "items": {"type": "string"}},
              "result": {"$ref": "#/components/schemas/PredictionResult"}
            }
          },
          "PredictResponse": {
            "type": "object",
            "required": ["model", "samples"],
            "properties": {
              "model": {"type": "string"},
              "samples": {"type": "array", "items": {
                "type": "object",
                "required": ["sample", "predictions"],
                "properties": {
                  "sample": {"type": "string", "description": "The sample column's value; \"\" for a table without one"},
                  "predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}}
                }
              }}
            }
          }
        }
      }
    }
    """#
}
